"""Portal pages of reviews: the list, the review page with its form sections and
workflow buttons, the printable page and the Markdown download. Every write goes
through ``reviews.services``; a refusal is shown as a form error."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db import transaction
from django.db.models import Case, Count, Q, When
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.generic import ListView, TemplateView, View

from incidentops.exceptions import DomainError
from incidentops.timezones import org_localtime
from incidents.models import Incident, PlaybookStep
from reviews import permissions, review_templates, services
from reviews.drafting.present import draft_context, drafted_sections
from reviews.forms import (
    AdoptLessonForm,
    AnswersForm,
    BatchCompleteForm,
    BatchDecisionForm,
    ContentForm,
    DraftForm,
    EditorForm,
    FactorFormSet,
    FollowUpForm,
    FollowUpStatusForm,
    TimelineFormSet,
    WhyFormSet,
    WorkflowForm,
    apply_template,
    rows_formset,
)
from reviews.models import (
    CONTENT_FIELDS,
    BatchReview,
    ContributingFactorCategory,
    FollowUp,
    Lesson,
    Review,
)
from reviews.pdf import review_pdf


class ReviewListView(LoginRequiredMixin, ListView):
    """Mine to write, mine to approve, overdue, all visible."""

    template_name = "reviews/review_list.html"
    context_object_name = "reviews"
    paginate_by = 50
    SCOPES = {
        "mine": "Mine to write",
        "approve": "Mine to approve",
        "overdue": "Overdue",
        "all": "All",
    }

    def get_queryset(self):
        user = self.request.user
        reviews = Review.objects.visible_to(user).select_related("incident", "owner")
        scope = self.request.GET.get("scope", "all")
        if scope == "mine":
            reviews = reviews.unpublished().filter(owner=user)
        elif scope == "approve":
            # Narrowed in SQL first; the rule itself then runs on the short
            # list only, with the user's groups read once.
            names = permissions.user_group_names(user)
            reviews = [
                review
                for review in permissions.approval_candidates(user, reviews)
                if permissions.approval_refusal(user, review, group_names=names) is None
            ]
        elif scope == "overdue":
            reviews = reviews.overdue(timezone.now())
        if self.request.GET.get("incident", "").isdigit() and not isinstance(
            reviews, list
        ):
            reviews = reviews.filter(incident_id=int(self.request.GET["incident"]))
        return reviews

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            scopes=self.SCOPES,
            scope=self.request.GET.get("scope", "all"),
            now=timezone.now(),
            **kwargs,
        )


class ReviewMixin(LoginRequiredMixin):
    def get_review(self) -> Review:
        return permissions.get_visible_review_or_404(
            self.request.user, pk=self.kwargs["pk"]
        )


def answers_of(review: Review, template) -> list[tuple[str, str]]:
    """(title, answer) of the template's own questions, then any answer to a
    question the template no longer asks."""
    questions = [s for s in review_templates.sections_of(template) if not s.is_field]
    shown = [(s.title, review.answers.get(s.key, "")) for s in questions]
    asked = {s.key for s in questions}
    shown += [
        (key.replace("-", " ").replace("_", " ").capitalize(), text)
        for key, text in review.answers.items()
        if key not in asked
    ]
    return shown


def review_context(review: Review, user) -> dict:
    """What the review page, the print page and the Markdown share."""
    template = review_templates.template_for(review)
    return {
        "review": review,
        "incident": review.incident,
        "metrics": review.response_metrics(),
        "timeline": review.timeline_items.select_related("entry").filter(included=True),
        "whys": review.whys.all(),
        "factors": review.factors.select_related("category"),
        "follow_ups": review.follow_ups.select_related("owner"),
        "recurrences": review.recurrences(user),
        "approvals": review.approval_records.select_related("user"),
        "progress": review.approval_progress(),
        # Sections still reading as a draft nobody accepted: marked as such.
        "drafted": drafted_sections(review),
        "template": template,
        "answers": answers_of(review, template),
        # Of the incident the reader already may see (the review's visibility).
        "regulatory": list(
            review.incident.regulatory_notifications.select_related("notified_by")
        ),
        "deadline": review.incident.notification_deadline,
    }


def _tall(form, answers: dict):
    """Answer boxes tall enough for what they hold (a drafted answer runs to
    several lines)."""
    for name, field in form.fields.items():
        lines = len(str(answers.get(name, "") or "").splitlines())
        field.widget.attrs["rows"] = max(2, min(lines + 1, 10))
    return form


class ReviewDetailView(ReviewMixin, TemplateView):
    """The review page: its content and, for editors, the form sections."""

    template_name = "reviews/review_detail.html"

    def forms_for(self, review: Review, data=None) -> dict:
        items = review.timeline_items.select_related("entry")
        sections = review_templates.sections_of(review_templates.template_for(review))
        section = data.get("section") if data else None

        def bound(name):
            # The one form ("editor") binds every writing section at once.
            return data if section in (name, "editor") else None

        content_form = ContentForm(
            bound("content"),
            initial={name: getattr(review, name) for name in CONTENT_FIELDS},
        )
        apply_template(content_form, sections)
        for name, field in content_form.fields.items():
            # Tall enough for what is there (a draft runs to several lines).
            lines = len((getattr(review, name) or "").splitlines())
            rows = max(field.widget.attrs.get("rows", 2), min(lines + 1, 14))
            field.widget.attrs["rows"] = rows
        return {
            "editor_form": EditorForm(
                bound("editor"), initial={"version": services.review_version(review)}
            ),
            "content_form": content_form,
            "answers_form": _tall(
                AnswersForm(
                    bound("answers"),
                    questions=[s for s in sections if not s.is_field],
                    initial=review.answers,
                ),
                review.answers,
            ),
            "why_formset": rows_formset(
                WhyFormSet,
                bound("whys"),
                prefix="whys",
                initial=[
                    {"why": w.why, "because": w.because} for w in review.whys.all()
                ],
            ),
            "factor_formset": rows_formset(
                FactorFormSet,
                bound("factors"),
                prefix="factors",
                initial=[
                    {"category": f.category, "description": f.description}
                    for f in review.factors.all()
                ],
            ),
            "timeline_formset": TimelineFormSet(
                bound("timeline"),
                prefix="timeline",
                initial=[
                    {
                        "entry": i.entry_id,
                        "included": i.included,
                        "annotation": i.annotation,
                    }
                    for i in items
                ],
            ),
            "timeline_entries": [i.entry for i in items],
            "follow_up_form": FollowUpForm(bound("follow_up")),
            "workflow_form": WorkflowForm(bound("workflow")),
            "draft_form": DraftForm(data if section == "draft" else None),
            "adopt_form": AdoptLessonForm(data if section == "adopt" else None),
        }

    def get_context_data(self, **kwargs):
        review = self.get_review()
        user = self.request.user
        context = {
            **review_context(review, user),
            "can_edit": permissions.can_edit(user, review),
            "editing": review.is_editable and permissions.can_edit(user, review),
            "approval_refusal": permissions.approval_refusal(user, review),
            "follow_up_statuses": FollowUp.Status.choices,
            "draft": draft_context(review, user),
            **lessons_context(review, user),
            **kwargs,
        }
        for name, form in self.forms_for(review).items():
            context.setdefault(name, form)
        by_name = {section["name"]: section for section in context["draft"]["sections"]}
        context["content_rows"] = [
            (field, by_name.get(field.name)) for field in context["content_form"]
        ]
        context["answer_rows"] = [
            (field, by_name.get(f"answer:{field.name}"))
            for field in context["answers_form"]
        ]
        # The version this person's own last save produced (the redirect says
        # so): the editor then drops its browser copy of those words.
        context["saved_version"] = self.request.GET.get("saved", "")
        return context

    SECTIONS = {
        "content": "content_form",
        "whys": "why_formset",
        "factors": "factor_formset",
        "timeline": "timeline_formset",
        "follow_up": "follow_up_form",
        "workflow": "workflow_form",
        "follow_up_status": "follow_up_status_form",
        "draft": "draft_form",
        "answers": "answers_form",
        "adopt": "adopt_form",
    }

    def post(self, request, pk):
        review = self.get_review()
        section = request.POST.get("section")
        if section == "editor":
            return self.save_editor(request, review)
        name = self.SECTIONS.get(section)
        if name is None:
            return redirect(review)
        forms = self.forms_for(review, request.POST)
        forms["follow_up_status_form"] = FollowUpStatusForm(request.POST)
        form = forms[name]
        error = None
        if form.is_valid():
            try:
                with transaction.atomic():
                    message = self.apply(section, form, review, request.user)
            except DomainError as refusal:
                error = refusal.message
            else:
                messages.success(request, message)
                return redirect(review)
        else:
            error = "Please correct the errors below."
        return self.render_to_response(
            self.get_context_data(
                **{name: form, "form_error": error, "section": section}
            )
        )

    def save_editor(self, request, review):
        """The one form: every writing section saved at once against the version
        it was rendered from (``services.review_save``). An autosave
        (``X-Autosave: 1``) gets JSON: ``{"version", "saved_at"}``, or 409 with
        ``{"detail", "code"}`` when refused; a plain submit gets the page (a
        refusal keeps every typed word in the form)."""
        forms = self.forms_for(review, request.POST)
        parts = ("editor_form", "content_form", "why_formset", "factor_formset")
        parts += ("timeline_formset", "answers_form")
        autosave = request.headers.get("X-Autosave") == "1"
        error, code = None, "invalid"
        if all(forms[name].is_valid() for name in parts):
            try:
                version = services.review_save(
                    review=review,
                    actor=request.user,
                    version=forms["editor_form"].cleaned_data["version"],
                    answers=forms["answers_form"].cleaned_data,
                    content=forms["content_form"].cleaned_data,
                    whys=[
                        (
                            f.cleaned_data.get("why", ""),
                            f.cleaned_data.get("because", ""),
                        )
                        for f in forms["why_formset"]
                    ],
                    factors=[
                        (
                            f.cleaned_data["category"],
                            f.cleaned_data.get("description", ""),
                        )
                        for f in forms["factor_formset"]
                        if f.cleaned_data.get("category")
                    ],
                    timeline_items=[
                        dict(f.cleaned_data)
                        for f in forms["timeline_formset"]
                        if f.cleaned_data and f.has_changed()
                    ],
                )
            except DomainError as refusal:
                error, code = refusal.message, refusal.code
            else:
                if autosave:
                    saved_at = org_localtime(timezone.now()).strftime("%H:%M:%S")
                    return JsonResponse({"version": version, "saved_at": saved_at})
                message = "Review saved."
                op = request.POST.get("draft_op", "")
                if op:
                    # The words are saved; the drafting step comes after, on top.
                    try:
                        with transaction.atomic():
                            message += " " + apply_draft_op(op, review, request.user)
                    except DomainError as refusal:
                        messages.success(request, message)
                        messages.error(request, refusal.message)
                        return self._saved(review)
                messages.success(request, message)
                return self._saved(review)
        else:
            error = "Please correct the errors below."
        if autosave:
            status = 409 if code == "stale" else 400
            return JsonResponse({"detail": error, "code": code}, status=status)
        return self.render_to_response(
            self.get_context_data(
                **{name: forms[name] for name in parts},
                form_error=error,
                section="editor",
            )
        )

    @staticmethod
    def _saved(review):
        """Back to the page, telling the editor which version holds the words
        it sent."""
        fresh = Review.objects.get(pk=review.pk)
        return redirect(
            f"{fresh.get_absolute_url()}?saved={services.review_version(fresh)}"
        )

    def apply(self, section, form, review, user) -> str:
        if section == "draft":
            return apply_draft(form.cleaned_data, review, user)
        if section == "adopt":
            return adopt_lesson(form.cleaned_data, review, user)
        if section == "answers":
            services.review_set_answers(
                review=review, actor=user, answers=form.cleaned_data
            )
            return "Answers saved."
        if section == "content":
            services.review_update(review=review, actor=user, **form.cleaned_data)
            return "Review saved."
        if section == "whys":
            services.review_set_five_whys(
                review=review,
                actor=user,
                whys=[
                    (f.cleaned_data.get("why", ""), f.cleaned_data.get("because", ""))
                    for f in form
                ],
            )
            return "Five whys saved."
        if section == "factors":
            services.review_set_factors(
                review=review,
                actor=user,
                factors=[
                    (f.cleaned_data["category"], f.cleaned_data.get("description", ""))
                    for f in form
                    if f.cleaned_data.get("category")
                ],
            )
            return "Contributing factors saved."
        if section == "timeline":
            services.review_set_timeline(
                review=review,
                actor=user,
                items=[dict(f.cleaned_data) for f in form if f.cleaned_data],
            )
            return "Timeline selection saved."
        if section == "follow_up":
            services.follow_up_add(review=review, actor=user, **form.cleaned_data)
            return "Follow-up added."
        if section == "follow_up_status":
            follow_up = review.follow_ups.filter(
                pk=form.cleaned_data["follow_up"]
            ).first()
            if follow_up is None:
                raise DomainError("No such follow-up on this review.")
            services.follow_up_update(
                follow_up=follow_up, actor=user, status=form.cleaned_data["status"]
            )
            return "Follow-up updated."
        action = form.cleaned_data["action"]
        comment = form.cleaned_data["comment"]
        if action == "submit":
            services.review_submit(review=review, actor=user)
            return "Submitted for approval."
        if action == "approve":
            services.review_approve(review=review, actor=user, comment=comment)
            return "Approved."
        if action == "request_changes":
            services.review_request_changes(review=review, actor=user, comment=comment)
            return "Changes requested; the review is back in draft."
        services.review_publish(review=review, actor=user)
        return "Published."


def lessons_context(review: Review, user) -> dict:
    """The review's indexed lessons and, for those who may mark them adopted,
    the steps of its incident type's playbooks."""
    lessons = list(
        review.lesson_items.filter(kind=Lesson.Kind.LESSON).select_related(
            "playbook_step__playbook"
        )
    )
    can_adopt = bool(lessons) and permissions.can_adopt_lesson(user, lessons[0])
    steps = (
        PlaybookStep.objects.filter(
            playbook__incident_type_id=review.incident.incident_type_id,
            playbook__is_active=True,
        ).select_related("playbook")
        if can_adopt and review.incident.incident_type_id
        else PlaybookStep.objects.none()
    )
    return {"lessons": lessons, "can_adopt": can_adopt, "playbook_steps": steps}


def adopt_lesson(data: dict, review: Review, user) -> str:
    lesson = review.lesson_items.filter(
        pk=data["lesson"], kind=Lesson.Kind.LESSON
    ).first()
    if lesson is None:
        raise DomainError("No such lesson on this review.")
    step = None
    if data.get("step"):
        step = (
            PlaybookStep.objects.select_related("playbook")
            .filter(pk=data["step"])
            .first()
        )
        if step is None:
            raise DomainError("No such playbook step.")
    services.lesson_adopt(lesson=lesson, actor=user, step=step)
    return (
        f"Marked as adopted into {step.playbook.name}, step {step.order}."
        if step
        else "No longer marked as adopted."
    )


def apply_draft_op(op: str, review: Review, user) -> str:
    """A drafting button of the editor (``draft_op``: ``redraft``,
    ``accept_all``, or ``accept``/``take``/``dismiss``/``add_factor``/
    ``add_follow_up`` with ``:<section or position>``), after its words were
    saved. Raises ``DomainError`` for an unknown one."""
    name, _, target = op.partition(":")
    form = DraftForm({"op": name, "target": target})
    if not form.is_valid():
        raise DomainError("That drafting step is not known; reload the page.")
    return apply_draft(form.cleaned_data, Review.objects.get(pk=review.pk), user)


def apply_draft(data: dict, review: Review, user) -> str:
    """Redraft, accept, take or dismiss drafted text, or add a suggestion."""
    op, target = data["op"], data.get("target", "")
    labels = services.section_labels(review)
    if op == "redraft":
        outcome = services.review_draft(review=review, actor=user)
        redrafted = [labels.get(n, n) for n, r in outcome.items() if r == "drafted"]
        kept = [labels.get(n, n) for n, r in outcome.items() if r == "kept"]
        message = "Redrafted from the record: " + (
            ", ".join(redrafted) if redrafted else "nothing had changed"
        )
        if kept:
            message += (
                f". Your text stands in {', '.join(kept)}; the newer draft waits "
                "beside it"
            )
        return message + "."
    if op in ("accept", "accept_all"):
        accepted = services.review_draft_accept(
            review=review, actor=user, sections=[target] if op == "accept" else None
        )
        names = ", ".join(labels.get(n, n) for n in accepted) or "nothing"
        return f"Accepted: {names}."
    if op == "take":
        services.review_draft_take(review=review, actor=user, section=target)
        return "Replaced with the newer draft (still to be accepted)."
    if op == "dismiss":
        services.review_draft_dismiss(review=review, actor=user, section=target)
        return "Kept your text."
    return _apply_suggestion(op, target, review, user)


def _apply_suggestion(op: str, target: str, review: Review, user) -> str:
    kind = "follow_ups" if op == "add_follow_up" else "factors"
    items = draft_context(review, user)["suggestions"][kind]
    if not target.isdigit() or int(target) >= len(items):
        raise DomainError("That suggestion is no longer offered; reload the page.")
    item = items[int(target)]
    if kind == "follow_ups":
        origin = (
            f"Open action of {review.incident.reference}"
            if item["kind"] == "action"
            else f"Still open from {item['reference']}'s review"
        )
        services.follow_up_add(
            review=review, actor=user, title=item["title"], description=origin
        )
        return f"Follow-up added: {item['title']}."
    category = ContributingFactorCategory.objects.filter(
        slug=item["category"], is_active=True
    ).first()
    if category is None:
        raise DomainError(f"{item['category_name']} is no longer a factor category.")
    current = [(f.category, f.description) for f in review.factors.all()]
    services.review_set_factors(
        review=review,
        actor=user,
        factors=[*current, (category, item["description"])],
    )
    return f"Contributing factor added: {item['category_name']}."


class ReviewPrintView(ReviewMixin, TemplateView):
    """A printable page (print CSS), for the published record."""

    template_name = "reviews/review_print.html"

    def get_context_data(self, **kwargs):
        return {**review_context(self.get_review(), self.request.user), **kwargs}


class ReviewPdfView(ReviewMixin, View):
    """The review as a PDF download (404 for a review the user may not see)."""

    def get(self, request, pk):
        review = self.get_review()
        data = review_pdf(review_context(review, request.user), request=request)
        response = HttpResponse(data, content_type="application/pdf")
        response["Content-Disposition"] = (
            f'attachment; filename="{review.incident.reference}-review.pdf"'
        )
        return response


class ReviewMarkdownView(ReviewMixin, View):
    """The review as a Markdown file download."""

    def get(self, request, pk):
        review = self.get_review()
        text = render_to_string(
            "reviews/review.md", review_context(review, request.user), request=request
        )
        response = HttpResponse(text, content_type="text/markdown; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="{review.incident.reference}-review.md"'
        )
        return response


# --- batch reviews ----------------------------------------------------------------


def visible_batches(user):
    """The batches ``user`` may see (``BatchReview.objects.visible_to``)."""
    return BatchReview.objects.visible_to(user).select_related(
        "severity", "owner_group"
    )


class BatchReviewListView(LoginRequiredMixin, ListView):
    """The batch-review queue: open batches first, then the done ones."""

    template_name = "reviews/batch_list.html"
    context_object_name = "batches"
    paginate_by = 50

    def get_queryset(self):
        # Counts of the incidents the user may see only: a restricted one in
        # the batch is not even counted for someone who may not see it.
        seen = Q(items__incident__in=Incident.objects.visible_to(self.request.user))
        return (
            visible_batches(self.request.user)
            .annotate(
                incident_count=Count("items", filter=seen, distinct=True),
                undecided=Count(
                    "items", filter=seen & Q(items__disposition=""), distinct=True
                ),
            )
            .order_by(
                Case(When(status=BatchReview.Status.OPEN, then=0), default=1),
                "-period_start",
                "severity__rank",
            )
        )

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            scopes=ReviewListView.SCOPES, scope="batches", now=timezone.now(), **kwargs
        )


class BatchReviewDetailView(LoginRequiredMixin, TemplateView):
    """A batch: its incidents (those the user may see), a disposition for each,
    and completion for the owner group."""

    template_name = "reviews/batch_detail.html"

    def get_batch(self) -> BatchReview:
        return permissions.get_visible_batch_or_404(
            self.request.user, pk=self.kwargs["pk"]
        )

    def get_context_data(self, **kwargs):
        batch = self.get_batch()
        user = self.request.user
        visible = Incident.objects.visible_to(user)
        items = list(
            batch.items.filter(incident__in=visible)
            .select_related(
                "incident",
                "incident__severity",
                "incident__incident_type",
                "decided_by",
            )
            .order_by("incident__resolved_at", "pk")
        )
        reviews = {
            review.incident_id: review
            for review in Review.objects.filter(
                incident__in=[item.incident_id for item in items]
            )
        }
        for item in items:
            item.review = reviews.get(item.incident_id)
        refusal = permissions.batch_refusal(user, batch)
        return {
            "batch": batch,
            "items": items,
            "decided": sum(1 for item in items if item.disposition),
            "can_run": refusal is None and batch.status == BatchReview.Status.OPEN,
            "refusal": refusal,
            "overdue": batch.is_overdue_at(timezone.now()),
            "dispositions": BatchDecisionForm.base_fields["disposition"].choices,
            "complete_form": BatchCompleteForm(),
            **kwargs,
        }

    def post(self, request, pk):
        batch = self.get_batch()
        section = request.POST.get("section")
        form = (
            BatchDecisionForm(request.POST)
            if section == "decide"
            else BatchCompleteForm(request.POST)
        )
        error = None
        if form.is_valid():
            try:
                with transaction.atomic():
                    message = self.apply(section, form, batch, request.user)
            except DomainError as refusal:
                error = refusal.message
            else:
                messages.success(request, message)
                return redirect(batch)
        else:
            error = "; ".join(
                f"{name.replace('_', ' ')}: {' '.join(errors)}"
                for name, errors in form.errors.items()
            )
        context = self.get_context_data(form_error=error, failed_item=None)
        if section == "decide":
            context["failed_item"] = request.POST.get("item")
            context["failed_form"] = form
        else:
            context["complete_form"] = form
        return self.render_to_response(context, status=400)

    def apply(self, section, form, batch, user) -> str:
        if section == "decide":
            item = (
                batch.items.filter(
                    pk=form.cleaned_data["item"],
                    incident__in=Incident.objects.visible_to(user),
                )
                .select_related("incident")
                .first()
            )
            if item is None:
                raise DomainError("No such incident in this batch review.")
            item = services.batch_item_decide(
                item=item,
                actor=user,
                disposition=form.cleaned_data["disposition"],
                note=form.cleaned_data["note"],
                ticket_url=form.cleaned_data["ticket_url"],
            )
            return f"{item.incident.reference}: {item.get_disposition_display()}."
        services.batch_complete(
            batch=batch, actor=user, notes=form.cleaned_data["notes"]
        )
        return f"The {batch.label} is complete."
