"""Portal forms. They validate input only; the views hand the cleaned data to
``incidents.services``, which decide and raise the reasons shown to people."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone

from incidentops.timezones import org_localtime, org_zone
from incidents.models import (
    ActionItem,
    Incident,
    IncidentType,
    RegulatoryNotification,
    Role,
    Service,
    SeverityLevel,
)


def _people():
    """Who may be picked for a role or an action: active people. Service
    accounts (integrations) are left out; the services refuse them too."""
    return (
        get_user_model()
        .objects.filter(is_active=True, is_service_account=False)
        .order_by("first_name", "last_name", "username")
    )


def person_label(user) -> str:
    """How a person reads in every picker: "Full Name (username)"."""
    full = user.get_full_name()
    return f"{full} ({user.username})" if full else user.username


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return person_label(obj)


def _types():
    return IncidentType.objects.filter(is_active=True).select_related("family")


class OrgDateTimeField(forms.DateTimeField):
    """A ``datetime-local`` input read in the organisation's time zone (the zone
    the portal shows times in), whatever the server's zone."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"})

    def prepare_value(self, value):
        if hasattr(value, "tzinfo") and value.tzinfo is not None:
            return org_localtime(value).strftime("%Y-%m-%dT%H:%M")
        return value

    def to_python(self, value):
        result = super().to_python(value)
        if result is not None:
            result = result.replace(tzinfo=None)
            result = timezone.make_aware(result, org_zone())
        return result


def day_filter(label: str) -> forms.DateField:
    """An optional date filter (a local day, ``incidentops.timezones``)."""
    return forms.DateField(
        label=label, required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


def type_filter() -> forms.ModelChoiceField:
    """An optional incident-type filter, by slug."""
    return forms.ModelChoiceField(
        label="Type",
        queryset=IncidentType.objects.order_by("name"),
        to_field_name="slug",
        required=False,
        empty_label="Any type",
    )


def severity_filter() -> forms.ModelChoiceField:
    """An optional severity filter, by code, most severe first."""
    return forms.ModelChoiceField(
        queryset=SeverityLevel.objects.order_by("rank"),
        to_field_name="code",
        required=False,
        empty_label="Any severity",
    )


class IncidentPageForm(forms.Form):
    """One of several forms on the incident page: ids are prefixed with the
    form's ``id_prefix`` so that two fields called ``body`` never share an id
    (and a label)."""

    id_prefix = ""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"id_{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)


class AcknowledgeForm(IncidentPageForm):
    """Acknowledging takes no input: the person is the one signed in."""

    id_prefix = "ack"


class BoardFilterForm(forms.Form):
    """The status board's filters (GET); every field is optional."""

    UNCONFIRMED = "unconfirmed"

    q = forms.CharField(label="Search", required=False, max_length=200)
    severity = forms.ChoiceField(label="Severity", required=False)
    incident_type = forms.ModelChoiceField(
        label="Type",
        required=False,
        queryset=IncidentType.objects.filter(is_active=True),
        to_field_name="slug",
        empty_label="Any type",
    )
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("", "Any active status")]
        + [c for c in Incident.Status.choices if c[0] not in Incident.ENDED_STATUSES],
    )
    mine = forms.BooleanField(label="Only mine", required=False)

    def __init__(self, *args, severities=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["severity"].choices = [
            ("", "Any severity"),
            (self.UNCONFIRMED, "Unconfirmed (triage)"),
        ] + [(level.code, f"{level.code} {level.name}") for level in severities]


class ServiceChoiceField(forms.ModelMultipleChoiceField):
    """Catalog services, each labelled with its team and tier."""

    def label_from_instance(self, service):
        team = f"{service.team.name}, " if service.team_id else ""
        return f"{service.name} ({team}tier {service.tier})"


class DeclareForm(forms.Form):
    title = forms.CharField(max_length=200, help_text="What is happening, in a line.")
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text="What you see, since when, who reported it.",
    )
    impact = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="Who or what is affected.",
    )
    incident_type = forms.ModelChoiceField(
        label="Type",
        queryset=_types(),
        to_field_name="slug",
        required=False,
        empty_label="Not sure — let triage suggest",
    )
    customer_facing = forms.BooleanField(label="Customer-facing", required=False)
    data_exposed = forms.BooleanField(label="Data exposed", required=False)
    regulatory = forms.BooleanField(label="Regulatory", required=False)
    restricted = forms.BooleanField(
        label="Restricted",
        required=False,
        help_text="Only people granted on it may see it. Some types (e.g. data "
        "breaches) are restricted by default.",
    )
    impact_started_at = OrgDateTimeField(
        label="Impact started",
        required=False,
        help_text="If it began before now (\u201cfailing since 14:05\u201d). "
        "Leave empty for now.",
    )
    services = ServiceChoiceField(
        label="Affected services",
        queryset=Service.objects.select_related("team").order_by("name"),
        to_field_name="slug",
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 5}),
        help_text="From the service catalog; their teams are the first asked to "
        "help. Ctrl or \u2318 picks several.",
    )


class ConfirmSeverityForm(IncidentPageForm):
    """Confirm the severity and, with it, the classification: the type decides
    which playbook confirming applies. ``with_type=False`` (someone who may
    confirm but not edit) leaves the type out."""

    id_prefix = "severity"

    severity = forms.ModelChoiceField(
        queryset=SeverityLevel.objects.all(),
        to_field_name="code",
        empty_label=None,
    )
    incident_type = forms.ModelChoiceField(
        label="Type",
        queryset=_types(),
        to_field_name="slug",
        required=False,
        empty_label="Not classified",
    )
    reason = forms.CharField(
        required=False,
        max_length=1000,
        widget=forms.TextInput(attrs={"placeholder": "Why this level?"}),
    )

    commander = PersonChoiceField(
        label="Commander",
        queryset=_people(),
        to_field_name="username",
        required=False,
        empty_label="Nobody yet",
        help_text="Who runs the response; needed to leave triage.",
    )
    start = forms.BooleanField(
        label="Start the response: move to investigating",
        required=False,
    )

    def __init__(
        self, *args, with_type: bool = True, with_start: bool = False, **kwargs
    ):
        super().__init__(*args, **kwargs)
        if not with_type:
            del self.fields["incident_type"]
        if not with_start:
            # Only an incident still in triage is started from this form.
            del self.fields["commander"]
            del self.fields["start"]


class IncidentTypeForm(IncidentPageForm):
    """Change the classification later (``incident_update``)."""

    id_prefix = "type"

    incident_type = forms.ModelChoiceField(
        label="Type",
        queryset=_types(),
        to_field_name="slug",
        required=False,
        empty_label="Not classified",
    )


class RestrictionForm(IncidentPageForm):
    """Restrict the incident, or lift its restriction, saying why
    (``incident_set_restriction``)."""

    id_prefix = "restriction"

    restricted = forms.TypedChoiceField(
        choices=[("true", "Restrict"), ("false", "Lift the restriction")],
        coerce=lambda value: value == "true",
    )
    reason = forms.CharField(
        label="Why",
        max_length=1000,
        widget=forms.TextInput(attrs={"placeholder": "e.g. personal data involved"}),
    )


class TransitionForm(IncidentPageForm):
    id_prefix = "status"

    status = forms.ChoiceField(choices=Incident.Status.choices)
    note = forms.CharField(required=False, max_length=2000)
    resolution_summary = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    closure_reason = forms.ChoiceField(
        choices=[("", ""), ("false_alarm", "False alarm")], required=False
    )


class MarkDuplicateForm(IncidentPageForm):
    """Close this incident as a duplicate of another (by reference)."""

    id_prefix = "duplicate"

    of = forms.CharField(
        label="Duplicate of",
        max_length=20,
        widget=forms.TextInput(attrs={"placeholder": "INC-2026-0042"}),
        help_text="The incident where the work goes on.",
    )
    note = forms.CharField(required=False, max_length=1000)

    def clean_of(self) -> str:
        return self.cleaned_data["of"].strip().upper()


class LinkForm(IncidentPageForm):
    """Link another incident (by reference) as related, or as its cause."""

    id_prefix = "link"

    incident = forms.CharField(
        label="Incident",
        max_length=20,
        widget=forms.TextInput(attrs={"placeholder": "INC-2026-0042"}),
    )
    kind = forms.ChoiceField(
        label="As",
        choices=[("related", "Related"), ("caused-by", "Its cause (caused by it)")],
        required=False,
    )
    note = forms.CharField(required=False, max_length=1000)

    def clean_incident(self) -> str:
        return self.cleaned_data["incident"].strip().upper()

    def clean_kind(self) -> str:
        return self.cleaned_data.get("kind") or "related"


class AssignRoleForm(IncidentPageForm):
    id_prefix = "role"

    role = forms.ModelChoiceField(
        queryset=Role.objects.all(), to_field_name="slug", empty_label=None
    )
    user = PersonChoiceField(
        label="Person", queryset=_people(), to_field_name="username"
    )
    note = forms.CharField(required=False, max_length=1000)
    # "Take command" sends "" (nobody): a claim that lost a race is refused.
    expected_holder = forms.CharField(required=False, max_length=150)


class RoleRequestForm(IncidentPageForm):
    """ "Ask Sam to take command": a suggestion's role, person and reason."""

    id_prefix = "ask"

    role = forms.ModelChoiceField(
        queryset=Role.objects.all(), to_field_name="slug", empty_label=None
    )
    user = PersonChoiceField(
        label="Person", queryset=_people(), to_field_name="username"
    )
    reason = forms.CharField(required=False, max_length=300)


class RoleRequestAnswerForm(IncidentPageForm):
    id_prefix = "answer"

    answer = forms.ChoiceField(choices=[("accept", "Accept"), ("decline", "Decline")])
    note = forms.CharField(required=False, max_length=300)


class ActionCreateForm(IncidentPageForm):
    id_prefix = "action"

    title = forms.CharField(max_length=200, label="New action")
    owner = PersonChoiceField(
        queryset=_people(),
        to_field_name="username",
        required=False,
        empty_label="Unassigned",
    )
    priority = forms.ChoiceField(
        choices=ActionItem.Priority.choices, initial=ActionItem.Priority.MEDIUM
    )
    due_at = forms.DateTimeField(
        label="Due",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )


class ActionUpdateForm(IncidentPageForm):
    """One change to an action: complete it, or (re)assign its owner."""

    id_prefix = "action_change"

    op = forms.ChoiceField(choices=[("complete", "Complete"), ("assign", "Assign")])
    owner = PersonChoiceField(
        queryset=_people(), to_field_name="username", required=False
    )


# The blanks of the pre-filled update template; an update still holding one was
# sent without being read, so it is refused before it reaches stakeholders.
UPDATE_PLACEHOLDERS = ("(describe who is affected)", "(what the team is doing now)")


class StakeholderUpdateForm(IncidentPageForm):
    id_prefix = "update"

    body = forms.CharField(
        label="Update", widget=forms.Textarea(attrs={"rows": 9}), max_length=10000
    )

    def clean_body(self):
        body = self.cleaned_data["body"]
        left = [blank for blank in UPDATE_PLACEHOLDERS if blank in body]
        if left:
            raise forms.ValidationError(
                "Fill in the template's blanks before sending: " + ", ".join(left)
            )
        return body


class NoteForm(IncidentPageForm):
    id_prefix = "note"

    body = forms.CharField(
        label="Note", widget=forms.Textarea(attrs={"rows": 2}), max_length=5000
    )


class CorrectTimesForm(IncidentPageForm):
    """Correct the record's times (``incident_correct_times``); empty or
    unchanged fields are left as they are."""

    id_prefix = "times"

    impact_started_at = OrgDateTimeField(label="Impact started", required=False)
    detected_at = OrgDateTimeField(label="Detected", required=False)
    acknowledged_at = OrgDateTimeField(label="Acknowledged", required=False)
    mitigated_at = OrgDateTimeField(label="Mitigated", required=False)
    resolved_at = OrgDateTimeField(label="Resolved", required=False)
    reason = forms.CharField(
        label="Why corrected",
        max_length=1000,
        widget=forms.TextInput(attrs={"placeholder": "How do you know?"}),
    )

    def changed_times(self, incident) -> dict:
        """The times given that differ from the incident's, to the minute the
        form shows (a time left as shown keeps its seconds)."""
        changed = {}
        for name in (
            "impact_started_at",
            "detected_at",
            "acknowledged_at",
            "mitigated_at",
            "resolved_at",
        ):
            value = self.cleaned_data.get(name)
            current = getattr(incident, name)
            if value is None:
                continue
            if (
                current is not None
                and current.replace(second=0, microsecond=0) == value
            ):
                continue
            changed[name] = value
        return changed


class RegulatoryNotificationForm(IncidentPageForm):
    """Record that an authority was told (``regulatory_notification_record``);
    times in the organisation's zone."""

    id_prefix = "regulatory"

    authority = forms.CharField(label="Authority told", max_length=200)
    notified_at = OrgDateTimeField(label="Told at")
    notified_by = PersonChoiceField(
        label="Told by", queryset=_people(), to_field_name="username"
    )
    method = forms.ChoiceField(
        label="How",
        choices=[("", "—"), *RegulatoryNotification.Method.choices],
    )
    reference = forms.CharField(label="Their reference", max_length=200, required=False)
    deadline_at = OrgDateTimeField(
        label="Legal deadline",
        required=False,
        help_text="Blank when no deadline applies.",
    )
    notes = forms.CharField(
        label="Notes on the notification",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def deadline(self, incident):
        """The deadline given: the type's own (to the second) when left as
        shown, None when blank."""
        value = self.cleaned_data.get("deadline_at")
        typed = incident.notification_deadline
        if value is None:
            return None
        if typed is not None and typed.replace(second=0, microsecond=0) == value:
            return typed
        return value
