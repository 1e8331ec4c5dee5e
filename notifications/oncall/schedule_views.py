"""Portal pages of on-call schedules.

``/oncall/schedules/``: every schedule and who is on call now.
``/oncall/schedules/<id>/``: one schedule's final timeline for the next weeks
(in the schedule's own time zone), its layers and overrides, shift swaps to
ask and answer, and calendar feeds. ``/oncall/calendar/<token>.ics``: a secret
iCal feed (no sign-in; the token is the credential; revoked or unknown: 404).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView

from incidentops.exceptions import DomainError
from notifications.oncall import schedule_permissions as permissions
from notifications.oncall import schedule_services as services
from notifications.oncall.schedule_ical import (
    FEED_AHEAD,
    FEED_PAST,
    person_ical,
    person_shifts,
    schedule_ical,
)
from notifications.oncall.schedule_models import (
    CalendarFeed,
    LayerParticipant,
    Schedule,
    ShiftSwap,
)
from notifications.oncall.schedules import oncall_for, shifts

WEEKS_SHOWN = (1, 2, 4, 6)


def _require_reader(user) -> None:
    if not permissions.can_view_schedules(user):
        raise PermissionDenied


class ScheduleListView(LoginRequiredMixin, TemplateView):
    template_name = "notifications/schedules.html"

    def get_context_data(self, **kwargs):
        _require_reader(self.request.user)
        schedules = list(Schedule.objects.select_related("team").order_by("name"))
        now = timezone.now()
        current = oncall_for(schedules, now)
        rows = [{"schedule": s, "oncall": current.get(s.pk, [])} for s in schedules]
        return {**super().get_context_data(**kwargs), "rows": rows, "now": now}


def _shift_choice(shift) -> str:
    return f"{shift.start.isoformat()}|{shift.end.isoformat()}"


def _parse_choice(value: str) -> tuple[datetime, datetime]:
    try:
        start, end = value.split("|")
        return datetime.fromisoformat(start), datetime.fromisoformat(end)
    except ValueError:
        raise forms.ValidationError("Choose a shift from the list.") from None


class SwapForm(forms.Form):
    """Ask someone to take one of my shifts, maybe taking one of theirs."""

    shift = forms.ChoiceField(label="My shift")
    counterpart = forms.ChoiceField(label="Ask")
    return_shift = forms.ChoiceField(
        label="Take one of theirs in return (optional)", required=False
    )
    note = forms.CharField(max_length=200, required=False)

    def __init__(self, *args, mine, others, people, zone, **kwargs):
        super().__init__(*args, **kwargs)

        def label(shift, with_name=False):
            start = shift.start.astimezone(zone)
            end = shift.end.astimezone(zone)
            text = f"{start:%a %d %b %H:%M} – {end:%a %d %b %H:%M}"
            return f"{shift.user.display_name}: {text}" if with_name else text

        self.fields["shift"].choices = [(_shift_choice(s), label(s)) for s in mine]
        self.fields["counterpart"].choices = [
            (str(u.pk), u.display_name) for u in people
        ]
        self.fields["return_shift"].choices = [("", "Nothing in return")] + [
            (f"{_shift_choice(s)}|{s.user.pk}", label(s, True)) for s in others
        ]

    def clean(self):
        data = super().clean()
        if data.get("shift"):
            data["start"], data["end"] = _parse_choice(data["shift"])
        value = data.get("return_shift")
        if value:
            try:
                start, end, owner = value.split("|")
                data["return_start"] = datetime.fromisoformat(start)
                data["return_end"] = datetime.fromisoformat(end)
            except ValueError:
                raise forms.ValidationError("Choose a shift from the list.") from None
            if owner != data.get("counterpart"):
                self.add_error("return_shift", "Choose a shift of the person you ask.")
        return data


class ScheduleDetailView(LoginRequiredMixin, TemplateView):
    template_name = "notifications/schedule_detail.html"

    def get_schedule(self) -> Schedule:
        _require_reader(self.request.user)
        return get_object_or_404(
            Schedule.objects.select_related("team"), pk=self.kwargs["pk"]
        )

    def weeks(self) -> int:
        try:
            weeks = int(self.request.GET.get("weeks", 2))
        except ValueError:
            weeks = 2
        return weeks if weeks in WEEKS_SHOWN else 2

    def swap_form(self, schedule, timeline, data=None):
        user = self.request.user
        if not permissions.can_request_swap(user, schedule):
            return None
        now = timezone.now()
        upcoming = [s for s in timeline if s.start > now]
        mine = [s for s in upcoming if s.user.pk == user.pk]
        others = [s for s in upcoming if s.user.pk != user.pk]
        people = sorted(
            {
                p.user
                for p in LayerParticipant.objects.filter(
                    layer__schedule=schedule
                ).select_related("user")
                if p.user.pk != user.pk and p.user.is_human
            },
            key=lambda u: u.display_name,
        )
        return SwapForm(
            data, mine=mine, others=others, people=people, zone=schedule.zone
        )

    def get_context_data(self, swap_form=None, **kwargs):
        schedule = self.get_schedule()
        user = self.request.user
        zone = schedule.zone
        now = timezone.now()
        weeks = self.weeks()
        # From the start of today, local time, for whole days.
        local_now = now.astimezone(zone)
        day_start = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
        start = day_start
        end = (day_start + timedelta(weeks=weeks)).astimezone(zone)
        timeline = shifts(schedule, start, end)
        days = _days(timeline, zone, start, weeks * 7)
        layers = list(
            schedule.layers.order_by("-priority").prefetch_related("participants__user")
        )
        overrides = list(
            schedule.overrides.filter(end__gt=now)
            .select_related("user", "swap")
            .order_by("start")[:50]
        )
        swaps = ShiftSwap.objects.filter(
            schedule=schedule, status=ShiftSwap.Status.REQUESTED, end__gt=now
        ).select_related("requester", "counterpart")
        schedule_feed = (
            CalendarFeed.objects.filter(revoked_at__isnull=True, schedule=schedule)
            .order_by("-created_at")
            .first()
            if permissions.can_edit_schedule(user)
            else None
        )
        my_feed = CalendarFeed.objects.filter(
            revoked_at__isnull=True, user=user
        ).first()
        current = [s for s in timeline if s.start <= now < s.end]
        return {
            **super().get_context_data(**kwargs),
            "schedule": schedule,
            "zone_name": schedule.time_zone,
            "now": now,
            "weeks": weeks,
            "weeks_shown": WEEKS_SHOWN,
            "current": current[0] if current else None,
            "days": days,
            "timeline": [s for s in timeline if s.end > now],
            "layers": layers,
            "overrides": overrides,
            "asked_of_me": [s for s in swaps if s.counterpart_id == user.pk],
            "my_requests": [s for s in swaps if s.requester_id == user.pk],
            "swap_form": swap_form or self.swap_form(schedule, timeline),
            "can_edit": permissions.can_edit_schedule(user),
            "schedule_feed": schedule_feed,
            "schedule_feed_url": self.feed_url(schedule_feed),
            "my_feed": my_feed,
            "my_feed_url": self.feed_url(my_feed),
        }

    def feed_url(self, feed) -> str:
        if feed is None:
            return ""
        return self.request.build_absolute_uri(
            reverse("notifications:calendar-feed", args=[feed.token])
        )

    def post(self, request, *args, **kwargs):
        """Ask for a swap."""
        schedule = self.get_schedule()
        now = timezone.now()
        zone = schedule.zone
        day_start = now.astimezone(zone).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        timeline = shifts(schedule, day_start, day_start + timedelta(weeks=6))
        form = self.swap_form(schedule, timeline, request.POST)
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            from django.contrib.auth import get_user_model

            data = form.cleaned_data
            try:
                services.swap_request(
                    schedule=schedule,
                    requester=request.user,
                    counterpart=get_user_model().objects.get(pk=data["counterpart"]),
                    start=data["start"],
                    end=data["end"],
                    return_start=data.get("return_start"),
                    return_end=data.get("return_end"),
                    note=data.get("note", ""),
                )
            except DomainError as error:
                form.add_error(
                    error.field if error.field in form.fields else None, error.message
                )
            else:
                messages.success(
                    request, "Swap requested; it takes effect when accepted."
                )
                return HttpResponseRedirect(
                    reverse("notifications:schedule", args=[schedule.pk])
                )
        context = self.get_context_data(swap_form=form, **kwargs)
        return self.render_to_response(context, status=400)


def _days(timeline, zone, start, count):
    """Per local day: its shifts clipped to the day, each with its share of the
    day in per cent (for the bar) and local start and end."""
    rows = []
    tones: dict[int, int] = {}
    for shift in timeline:
        tones.setdefault(shift.user.pk, len(tones) % 6)
    local_start = start.astimezone(zone).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    for n in range(count):
        # Local midnight to local midnight (23, 24 or 25 hours), as instants.
        day_start = (local_start + timedelta(days=n)).astimezone(UTC)
        day_end = (local_start + timedelta(days=n + 1)).astimezone(UTC)
        length = (day_end - day_start).total_seconds()
        segments = []
        for shift in timeline:
            s = max(shift.start, day_start)
            e = min(shift.end, day_end)
            if s < e:
                segments.append(
                    {
                        "user": shift.user,
                        "layer": shift.layer,
                        "tone": tones[shift.user.pk],
                        "start": s.astimezone(zone),
                        "end": e.astimezone(zone),
                        "offset": round(
                            (s - day_start).total_seconds() / length * 100, 2
                        ),
                        "width": round((e - s).total_seconds() / length * 100, 2),
                    }
                )
        rows.append({"date": local_start + timedelta(days=n), "segments": segments})
    return rows


class SwapAnswerView(LoginRequiredMixin, View):
    """POST accept / decline / cancel a swap."""

    http_method_names = ["post"]
    verbs = {
        "accept": (services.swap_accept, "Swap accepted: the schedule now shows it."),
        "decline": (services.swap_decline, "Swap declined."),
        "cancel": (services.swap_cancel, "Swap request cancelled."),
    }

    def post(self, request, pk, verb):
        if verb not in self.verbs:
            raise Http404
        _require_reader(request.user)
        swap = get_object_or_404(ShiftSwap, pk=pk)
        service, done = self.verbs[verb]
        try:
            service(swap=swap, actor=request.user)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, done)
        return HttpResponseRedirect(
            reverse("notifications:schedule", args=[swap.schedule_id])
        )


class FeedView(LoginRequiredMixin, View):
    """POST: make a calendar feed (mine, or the schedule's) or revoke one."""

    http_method_names = ["post"]

    def post(self, request, pk):
        _require_reader(request.user)
        schedule = get_object_or_404(Schedule, pk=pk)
        action = request.POST.get("action")
        try:
            if action == "revoke":
                feed = get_object_or_404(
                    CalendarFeed, pk=request.POST.get("feed"), revoked_at__isnull=True
                )
                services.calendar_feed_revoke(feed=feed, actor=request.user)
                messages.success(request, "Calendar link revoked; it no longer works.")
            elif action == "schedule":
                services.calendar_feed_create(actor=request.user, schedule=schedule)
                messages.success(request, "Calendar link made for this schedule.")
            else:
                services.calendar_feed_create(actor=request.user, user=request.user)
                messages.success(request, "Calendar link made for your shifts.")
        except DomainError as error:
            messages.error(request, error.message)
        return HttpResponseRedirect(
            reverse("notifications:schedule", args=[schedule.pk]) + "#calendar"
        )


class CalendarFeedView(View):
    """GET a feed by its secret token: 7 days back to 90 days ahead."""

    http_method_names = ["get"]

    def get(self, request, token):
        feed = (
            CalendarFeed.objects.filter(token=token, revoked_at__isnull=True)
            .select_related("schedule", "user")
            .first()
        )
        if feed is None or (feed.user is not None and not feed.user.is_active):
            raise Http404
        now = timezone.now()
        start, end = now - FEED_PAST, now + FEED_AHEAD
        if feed.schedule is not None:
            body = schedule_ical(feed.schedule, start=start, end=end, now=now)
        else:
            body = person_ical(feed.user, start=start, end=end, now=now)
        response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
        response["Cache-Control"] = "private, max-age=300"
        response["X-Robots-Tag"] = "noindex"
        return response


def my_shifts_context(*, request):
    """My work: my next shifts (14 days) and swaps waiting for my answer."""
    user = request.user
    if not permissions.can_view_schedules(user):
        return None
    now = timezone.now()
    upcoming = person_shifts(user, start=now, end=now + timedelta(days=14))
    asked = list(
        ShiftSwap.objects.filter(
            counterpart=user, status=ShiftSwap.Status.REQUESTED, start__gt=now
        ).select_related("schedule", "requester")
    )
    if not upcoming and not asked:
        return {"shifts": [], "asked": [], "now": now}
    names = dict(
        Schedule.objects.filter(pk__in={s.schedule_id for s in upcoming}).values_list(
            "pk", "name"
        )
    )
    rows = [
        {
            "schedule_id": shift.schedule_id,
            "schedule": names.get(shift.schedule_id, ""),
            "start": shift.start,
            "end": shift.end,
            "layer": shift.layer,
        }
        for shift in upcoming[:10]
    ]
    return {"shifts": rows, "asked": asked, "now": now}
