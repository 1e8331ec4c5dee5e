"""Portal pages of on-call: the page's one-click acknowledge link, and my
contact methods.

``GET /pages/acknowledge/<token>/`` shows the incident and one button;
``POST`` to the same URL acknowledges as the person the link was made for
(``incidents.services.incident_acknowledge``). A GET never acknowledges: mail
scanners and link previews open links by themselves. The token is the
credential (no sign-in needed at 3 a.m.), but a person signed in as someone
else is refused. Refusals (tampered, expired, wrong person, already
acknowledged) are pages that say what happened and what to do.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.views import View

from incidentops.exceptions import Conflict, DomainError
from incidents import services
from incidents.models import Incident
from notifications.oncall import contacts
from notifications.oncall.escalation import (
    AcknowledgeLinkError,
    read_acknowledge_token,
)
from notifications.oncall.escalation_models import ContactMethod, NotificationRule

TEMPLATE = "notifications/acknowledge_page.html"


class AcknowledgePageView(View):
    http_method_names = ["get", "post"]

    def _refuse(self, request, status: int, title: str, message: str, incident=None):
        return render(
            request,
            TEMPLATE,
            {
                "refused": True,
                "heading": title,
                "message": message,
                "incident": incident,
            },
            status=status,
        )

    def _resolve(self, request, token):
        """(incident, person) for a good link, or a refusal response."""
        try:
            incident_id, user_id = read_acknowledge_token(token)
        except AcknowledgeLinkError as exc:
            status = 410 if exc.reason == "expired" else 400
            heading = (
                "This link has expired"
                if exc.reason == "expired"
                else "This link is not valid"
            )
            return None, None, self._refuse(request, status, heading, str(exc))
        incident = Incident.objects.filter(pk=incident_id).first()
        person = get_user_model().objects.filter(pk=user_id, is_active=True).first()
        if incident is None or person is None:
            return (
                None,
                None,
                self._refuse(
                    request,
                    404,
                    "Nothing to acknowledge",
                    "The incident or the account this link was made for no longer "
                    "exists.",
                ),
            )
        signed_in = request.user
        if signed_in.is_authenticated and signed_in.pk != person.pk:
            return (
                None,
                None,
                self._refuse(
                    request,
                    403,
                    "This link is for someone else",
                    f"This link was sent to another person; you are signed in as "
                    f"{signed_in.get_username()}. Acknowledge on the incident's page "
                    "instead, or sign out and use the link again.",
                    incident=incident,
                ),
            )
        return incident, person, None

    def get(self, request, token):
        incident, person, refusal = self._resolve(request, token)
        if refusal:
            return refusal
        if incident.acknowledged_at is not None:
            who = incident.acknowledged_by
            return self._refuse(
                request,
                200,
                "Already acknowledged",
                f"{who.display_name if who else 'Someone'} already acknowledged "
                f"{incident.reference} (at {incident.acknowledged_at:%H:%M:%S} UTC); "
                "nobody is being paged for it.",
                incident=incident,
            )
        return render(
            request, TEMPLATE, {"incident": incident, "person": person, "ask": True}
        )

    def post(self, request, token):
        incident, person, refusal = self._resolve(request, token)
        if refusal:
            return refusal
        try:
            services.incident_acknowledge(
                incident=incident, user=person, via="the page's link"
            )
        except Conflict as exc:
            return self._refuse(
                request, 409, "Already acknowledged", exc.message, incident=incident
            )
        except DomainError as exc:
            return self._refuse(
                request, 403, "Not acknowledged", exc.message, incident=incident
            )
        return render(
            request, TEMPLATE, {"incident": incident, "person": person, "done": True}
        )


# --- the profile page: my contact methods and notification rules -------------------


class ContactMethodForm(forms.Form):
    kind = forms.ChoiceField(choices=ContactMethod.Kind.choices, label="Kind")
    address = forms.CharField(
        max_length=2000,
        label="Address or URL",
        help_text="An e-mail address; an Apprise URL for SMS, push or chat "
        "(e.g. ntfy://my-topic, twilio://SID:Token@From/To); or an https URL "
        "for a webhook. URLs are never shown back.",
    )
    label = forms.CharField(max_length=80, required=False, label="Name")
    delay_minutes = forms.IntegerField(
        min_value=0,
        max_value=contacts.MAX_DELAY_MINUTES,
        initial=0,
        label="Use it after (minutes)",
    )


class RuleForm(forms.Form):
    delay_minutes = forms.IntegerField(
        min_value=0, max_value=contacts.MAX_DELAY_MINUTES, label="Also after (min)"
    )


class ContactMethodsView(LoginRequiredMixin, View):
    """``/profile/contact-methods/``: how I am paged, in order."""

    template_name = "notifications/contact_methods.html"

    def _render(self, request, form=None, status=200):
        methods = list(
            request.user.contact_methods.prefetch_related("rules").order_by("pk")
        )
        schedule = sorted(
            (
                (rule.delay_minutes, method)
                for method in methods
                if method.is_enabled
                for rule in method.rules.all()
            ),
            key=lambda pair: (pair[0], pair[1].pk),
        )
        return render(
            request,
            self.template_name,
            {
                "methods": methods,
                "schedule": schedule,
                "form": form or ContactMethodForm(),
                "account_email": request.user.email,
            },
            status=status,
        )

    def get(self, request):
        return self._render(request)

    def post(self, request):
        action = request.POST.get("action", "add")
        try:
            if action == "add":
                form = ContactMethodForm(request.POST)
                if not form.is_valid():
                    return self._render(request, form, status=400)
                method = contacts.contact_method_add(
                    actor=request.user, **form.cleaned_data
                )
                messages.success(request, f"Added {method.name}.")
            elif action == "remove":
                method = get_object_or_404(
                    ContactMethod, pk=request.POST.get("method"), user=request.user
                )
                contacts.contact_method_remove(actor=request.user, method=method)
                messages.success(request, f"Removed {method.name}.")
            elif action == "add_rule":
                method = get_object_or_404(
                    ContactMethod, pk=request.POST.get("method"), user=request.user
                )
                rule_form = RuleForm(request.POST)
                if not rule_form.is_valid():
                    raise DomainError("Give the minutes as a whole number, 0 to 1440.")
                contacts.notification_rule_add(
                    actor=request.user,
                    method=method,
                    delay_minutes=rule_form.cleaned_data["delay_minutes"],
                )
                messages.success(request, f"{method.name} is used at one more time.")
            elif action == "remove_rule":
                rule = get_object_or_404(
                    NotificationRule,
                    pk=request.POST.get("rule"),
                    contact_method__user=request.user,
                )
                contacts.notification_rule_remove(actor=request.user, rule=rule)
                messages.success(request, "Removed the notification rule.")
            else:
                return HttpResponseBadRequest("Unknown action.")
        except DomainError as exc:
            form = ContactMethodForm(request.POST if action == "add" else None)
            if action == "add" and exc.field in form.fields:
                form.is_valid()
                form.add_error(exc.field, exc.message)
            else:
                messages.error(request, exc.message)
            return self._render(request, form, status=400)
        return HttpResponseRedirect(request.path)
