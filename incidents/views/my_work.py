"""``/my/``: my open actions, roles and reviews."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.utils import timezone
from django.views.generic import TemplateView

from incidents import providers
from incidents.models import (
    ActionItem,
    Incident,
    RoleAssignment,
)
from incidents.views.board import OPEN_ACTION_STATUSES


class MyWorkView(LoginRequiredMixin, TemplateView):
    """``/my/``: my open actions and current roles on incidents I may see, then
    the panels other apps provide (``providers.Slot.MY_WORK``)."""

    template_name = "incidents/my_work.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        visible = Incident.objects.visible_to(user)
        context.update(
            now=timezone.now(),
            actions=ActionItem.objects.filter(
                owner=user,
                status__in=OPEN_ACTION_STATUSES,
                incident__in=visible,
            )
            .select_related("incident", "incident__severity")
            .order_by("due_at", "pk"),
            roles=RoleAssignment.objects.filter(
                user=user, ended_at__isnull=True, incident__in=visible.open()
            )
            .select_related("incident", "incident__severity", "role")
            .order_by("-started_at"),
            provided_panels=providers.render_panels(
                providers.Slot.MY_WORK, request=self.request
            ),
        )
        return context
