"""Saving the review page's one form: every section at once, against the version
the writer started from, so that a concurrent save is refused, never overwritten."""

from __future__ import annotations

import hashlib
import json

from django.db import transaction

from incidentops.exceptions import DomainError
from reviews.models import CONTENT_FIELDS, ContributingFactorCategory, Review
from reviews.services.authoring import (
    review_set_answers,
    review_set_factors,
    review_set_five_whys,
    review_set_timeline,
    review_update,
)
from reviews.services.base import _lock, _require_editable


class StaleReview(DomainError):
    """The review changed since the writer's form was rendered."""

    code = "stale"


def review_version(review: Review) -> str:
    """A short fingerprint of the review's written content: its text fields, the
    five whys, the contributing factors, the template's answers and the timeline
    annotations. It changes
    whenever someone saves different words; the review page sends it back with
    each save (``review_save``). Three small queries."""
    state = {
        "content": {name: getattr(review, name) for name in CONTENT_FIELDS},
        "owner": review.owner_id,
        "answers": review.answers,
        "whys": list(review.whys.order_by("order").values_list("why", "because")),
        "factors": list(
            review.factors.order_by("pk").values_list("category_id", "description")
        ),
        "annotations": list(
            review.timeline_items.exclude(annotation="")
            .order_by("entry_id")
            .values_list("entry_id", "annotation")
        ),
    }
    text = json.dumps(state, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


@transaction.atomic
def review_save(
    *,
    review: Review,
    actor,
    version: str,
    content: dict[str, str],
    whys: list[tuple[str, str]],
    factors: list[tuple[ContributingFactorCategory, str]],
    timeline_items: list[dict],
    answers: dict[str, str] | None = None,
) -> str:
    """Save every section of a draft review in one transaction, if nobody saved
    since ``version`` (``review_version`` when the writer's form was rendered).

    ``content``: the text fields (``CONTENT_FIELDS``); ``whys``, ``factors``,
    ``timeline_items``, ``answers``: as ``review_set_five_whys``,
    ``review_set_factors``, ``review_set_timeline`` and ``review_set_answers`` (pass only the timeline rows the writer changed, so
    a concurrent choice on another row stands). Returns the new version.
    Changes: as those services together (history records ``actor``). Sends
    nothing. Raises ``StaleReview`` (code ``stale``) when the review's words
    changed since ``version``, changing nothing; otherwise what those services
    raise (a half-filled why, an inactive category, not a draft, not
    permitted), also changing nothing.
    """
    locked = _lock(review)
    _require_editable(actor, locked)
    if version != review_version(locked):
        raise StaleReview(
            "Someone else saved this review after you opened it, so your save was "
            "refused rather than overwrite their words. Your text is kept in the "
            "form: copy what you need, then reload the page to see theirs.",
            field="version",
        )
    review_update(review=locked, actor=actor, **content)
    review_set_five_whys(review=locked, actor=actor, whys=whys)
    review_set_factors(review=locked, actor=actor, factors=factors)
    if timeline_items:
        review_set_timeline(review=locked, actor=actor, items=timeline_items)
    if answers:
        review_set_answers(review=locked, actor=actor, answers=answers)
    return review_version(Review.objects.get(pk=locked.pk))
