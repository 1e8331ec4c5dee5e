"""Portal forms of the review page; views hand their data to the services."""

from django import forms
from django.contrib.auth import get_user_model

from reviews.models import BatchReviewItem, ContributingFactorCategory, FollowUp


class ContentForm(forms.Form):
    summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    customer_impact = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    business_impact = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    root_cause = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    went_well = forms.CharField(
        label="What went well", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    went_poorly = forms.CharField(
        label="What went poorly",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )
    got_lucky = forms.CharField(
        label="Where we got lucky",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )
    lessons = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    response = forms.CharField(
        label="How the response went",
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
    )


class AnswersForm(forms.Form):
    """The review template's own questions, one text each."""

    def __init__(self, *args, questions=(), **kwargs):
        super().__init__(*args, **kwargs)
        for section in questions:
            self.fields[section.key] = forms.CharField(
                label=section.title + (" (required)" if section.required else ""),
                help_text=section.guidance,
                widget=forms.Textarea(attrs={"rows": 2}),
                required=False,
            )


def apply_template(form: forms.Form, sections) -> None:
    """Give the content form's fields the template's titles and guidance."""
    for section in sections:
        field = form.fields.get(section.key)
        if field is None:
            continue
        field.label = section.title + (" (required)" if section.required else "")
        field.help_text = section.guidance


class WhyForm(forms.Form):
    why = forms.CharField(required=False)
    because = forms.CharField(required=False)


# No blank rows beyond the first: the page adds one row at a time ("Add a
# why"); a chain with no rows yet starts with one (see ``rows_formset``).
WhyFormSet = forms.formset_factory(WhyForm, extra=0, max_num=10)


class FactorForm(forms.Form):
    category = forms.ModelChoiceField(
        queryset=ContributingFactorCategory.objects.filter(is_active=True),
        required=False,
    )
    description = forms.CharField(required=False)


FactorFormSet = forms.formset_factory(FactorForm, extra=0, max_num=20)


def rows_formset(formset_class, data, *, prefix: str, initial: list[dict]):
    """A formset of ``initial`` rows, plus one blank row when there are none (so
    a page without JavaScript can still write the first)."""
    if initial or data is not None:
        return formset_class(data, prefix=prefix, initial=initial)
    return forms.formset_factory(
        formset_class.form, extra=1, max_num=formset_class.max_num
    )(prefix=prefix, initial=initial)


class EditorForm(forms.Form):
    """The review page's one form: the version it was rendered from."""

    version = forms.CharField(widget=forms.HiddenInput)


class TimelineItemForm(forms.Form):
    entry = forms.IntegerField(widget=forms.HiddenInput)
    included = forms.BooleanField(required=False)
    annotation = forms.CharField(required=False)


TimelineFormSet = forms.formset_factory(TimelineItemForm, extra=0)


class FollowUpForm(forms.Form):
    title = forms.CharField(max_length=200)
    owner = forms.ModelChoiceField(
        queryset=get_user_model().objects.filter(
            is_active=True, is_service_account=False
        ),
        to_field_name="username",
        required=False,
    )
    due_at = forms.DateTimeField(
        required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    ticket_url = forms.URLField(label="External ticket", required=False)


class FollowUpStatusForm(forms.Form):
    follow_up = forms.IntegerField(widget=forms.HiddenInput)
    status = forms.ChoiceField(choices=FollowUp.Status.choices)


class DraftForm(forms.Form):
    """One thing done with the draft from the record: ``target`` names the
    section, or the suggestion's position in its list."""

    op = forms.ChoiceField(
        choices=[
            ("redraft", "Redraft from the record"),
            ("accept", "Accept"),
            ("accept_all", "Accept all drafted sections"),
            ("take", "Replace my text with the newer draft"),
            ("dismiss", "Keep my text"),
            ("add_follow_up", "Add as a follow-up"),
            ("add_factor", "Add as a contributing factor"),
        ]
    )
    target = forms.CharField(required=False, max_length=40)


class AdoptLessonForm(forms.Form):
    lesson = forms.IntegerField(widget=forms.HiddenInput)
    step = forms.IntegerField(required=False)


class WorkflowForm(forms.Form):
    action = forms.ChoiceField(
        choices=[
            ("submit", "Submit for approval"),
            ("approve", "Approve"),
            ("request_changes", "Request changes"),
            ("publish", "Publish"),
        ]
    )
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class BatchDecisionForm(forms.Form):
    item = forms.IntegerField(widget=forms.HiddenInput)
    disposition = forms.ChoiceField(
        choices=[
            choice
            for choice in BatchReviewItem.Disposition.choices
            if choice[0] != BatchReviewItem.Disposition.PENDING
        ]
    )
    note = forms.CharField(required=False, max_length=2000)
    ticket_url = forms.URLField(label="Ticket", required=False)


class BatchCompleteForm(forms.Form):
    notes = forms.CharField(
        label="Notes", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
