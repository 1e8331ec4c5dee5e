"""Drafting a review from the record: each section states the fixture's facts
with their sources, a redraft never overwrites a person's text silently, and
people accept what was drafted (who and when kept).

Expected facts are computed from the fixture itself (its rows and the shared
duration wording of ``review_format``), not copied from the drafting code.
"""

from datetime import timedelta

import pytest

from incidentops import groups
from incidentops.exceptions import InvalidTransition
from incidents import services as incident_services
from incidents.models import ActionItem, Alert, TimelineEntry
from reviews import services
from reviews.drafting.present import draft_context
from reviews.models import DraftSection, Review
from reviews.policy import org_zone
from reviews.templatetags.review_format import duration
from tests.factories import (
    IncidentTypeFactory,
    IntegrationFactory,
    UserFactory,
    role,
    severity,
)
from tests.reviews.conftest import WEDNESDAY

pytestmark = pytest.mark.django_db

AUTHORITY = "Lead data-protection authority (GDPR Art. 33)"
START = WEDNESDAY - timedelta(hours=4)  # the first alert fires


@pytest.fixture
def breach_type(db):
    return IncidentTypeFactory(
        slug="personal-data-breach",
        name="Personal-data breach",
        notification_deadline_hours=72,
        notification_authority=AUTHORITY,
    )


@pytest.fixture
def cora(db):
    return UserFactory(
        username="cora",
        first_name="Cora",
        groups=[groups.INCIDENT_MANAGERS, groups.RESPONDERS],
    )


def _alerts(incident, integration):
    specs = [
        ("CheckoutErrors", {"host": "web-1", "region": "eu-west-1"}, 0),
        ("CheckoutErrors", {"host": "web-2", "region": "eu-west-1"}, 1),
        ("DatabaseLatency", {"instance": "db-1:5432", "region": "eu-central-1"}, 2),
    ]
    for index, (name, labels, minutes) in enumerate(specs):
        Alert.objects.create(
            incident=incident,
            integration=integration,
            fingerprint=f"fp-{index}",
            name=name,
            status=Alert.Status.RESOLVED,
            labels={"alertname": name, **labels},
            starts_at=START + timedelta(minutes=minutes),
            first_seen_at=START + timedelta(minutes=minutes + 1),
        )


@pytest.fixture
def breach(breach_type, responder, manager, cora):
    """A SEV-1 breach raised by alerts: two commanders (a hand-over), a
    communications lead, actions done and open (the authority notified in time),
    stakeholder updates, resolved four hours after the first alert."""
    integration = IntegrationFactory(name="prometheus-eu")
    incident = incident_services.incident_declare(
        actor=integration.service_account,
        title="Checkout exposes other customers' orders",
        impact="Customers saw other customers' order pages.",
        incident_type=breach_type,
        customer_facing=True,
        data_exposed=True,
        regulatory=True,
        affected_services=["checkout-api", "orders"],
        affected_sites=["eu-shop"],
        affected_suppliers=["CloudCDN"],
        detected_at=START,
        integration=integration,
        now=START + timedelta(minutes=4),
    )
    _alerts(incident, integration)
    at = START + timedelta(minutes=10)
    incident_services.incident_assign_role(
        incident=incident, actor=manager, role=role("commander"), user=manager, now=at
    )
    incident_services.incident_confirm_severity(
        incident=incident,
        actor=manager,
        severity=severity("SEV-1"),
        reason="Customer data shown to the wrong people",
        now=START + timedelta(minutes=15),
    )
    incident_services.incident_assign_role(
        incident=incident,
        actor=manager,
        role=role("communications"),
        user=responder,
        now=START + timedelta(minutes=16),
    )
    incident_services.incident_transition(
        incident=incident,
        actor=manager,
        status="investigating",
        now=START + timedelta(minutes=20),
    )
    notify = incident_services.action_create(
        incident=incident,
        actor=manager,
        title="Notify the lead supervisory authority",
        now=START + timedelta(minutes=25),
    )
    purge = incident_services.action_create(
        incident=incident,
        actor=manager,
        title="Purge the CDN cache",
        now=START + timedelta(minutes=26),
    )
    incident_services.action_create(
        incident=incident,
        actor=manager,
        title="Ask the recipients to delete the pages",
        owner=cora,
        now=START + timedelta(minutes=27),
    )
    incident_services.stakeholder_update_post(
        incident=incident,
        actor=responder,
        body="We are investigating exposed order pages.",
        now=START + timedelta(minutes=40),
    )
    incident_services.action_complete(
        action=purge, actor=manager, now=START + timedelta(minutes=50)
    )
    incident_services.incident_assign_role(
        incident=incident,
        actor=manager,
        role=role("commander"),
        user=cora,
        now=START + timedelta(hours=2),
    )
    incident_services.action_complete(
        action=notify, actor=cora, now=START + timedelta(hours=2, minutes=30)
    )
    incident_services.stakeholder_update_post(
        incident=incident,
        actor=responder,
        body="Pages are no longer exposed.",
        now=START + timedelta(hours=2, minutes=40),
    )
    incident_services.incident_transition(
        incident=incident,
        actor=cora,
        status="mitigated",
        now=START + timedelta(hours=3),
    )
    incident_services.incident_transition(
        incident=incident,
        actor=cora,
        status="resolved",
        note="A cache key without the session id was fixed",
        now=START + timedelta(hours=4),
    )
    incident.refresh_from_db()
    return incident


def _row(review, section) -> DraftSection:
    return review.draft_sections.get(section=section)


def _local(moment) -> str:
    local = moment.astimezone(org_zone())
    return f"{local.day} {local:%b %Y %H:%M}"


def test_a_review_opens_with_every_section_drafted_and_marked(breach):
    review = breach.review
    for section in ("summary", "customer_impact", "business_impact", "response"):
        row = _row(review, section)
        assert getattr(review, section) == row.text != ""
        assert row.is_draft(review) and row.accepted_by is None
        # every sentence names at least one source
        assert row.sentences and all(s["sources"] for s in row.sentences)


def test_every_entry_source_is_an_entry_of_this_incident(breach):
    sequences = set(
        TimelineEntry.objects.filter(incident=breach).values_list("sequence", flat=True)
    )
    alerts = set(Alert.objects.filter(incident=breach).values_list("pk", flat=True))
    for row in breach.review.draft_sections.exclude(sentences=[]):
        for sentence in row.sentences:
            assert sentence["text"] in row.text
            for source in sentence["sources"]:
                if source["kind"] == "entry":
                    assert source["id"] in sequences
                if source["kind"] == "alert":
                    assert source["id"] in alerts


def test_summary_says_what_to_whom_how_long_how_detected_and_the_severity(breach):
    summary = breach.review.summary
    confirmed = TimelineEntry.objects.get(incident=breach, kind="severity_confirmed")
    assert breach.reference in summary and breach.title in summary
    assert "customers" in summary
    for service in breach.affected_services:
        assert service in summary
    assert duration(breach.resolved_at - breach.detected_at) in summary
    assert (
        _local(breach.detected_at) in summary and _local(breach.resolved_at) in summary
    )
    assert breach.integration.name in summary
    assert str(breach.alerts.count()) in summary
    for name in set(breach.alerts.values_list("name", flat=True)):
        assert name in summary
    assert duration(breach.acknowledged_at - breach.detected_at) in summary
    assert duration(breach.created_at - breach.detected_at) in summary
    assert breach.severity.code in summary and breach.severity.name in summary
    assert confirmed.data["reason"] in summary
    assert confirmed.actor.display_name in summary
    assert breach.resolution_summary in summary


def test_impact_sections_state_flags_places_alert_facts_and_the_deadline(breach):
    review = breach.review
    customer = review.customer_impact
    assert breach.impact.rstrip(".") in customer
    for name in breach.affected_services + breach.affected_sites:
        assert name in customer
    hosts = {
        a.labels.get("host") or a.labels.get("instance") for a in breach.alerts.all()
    }
    regions = {a.labels["region"] for a in breach.alerts.all()}
    for value in hosts | regions:
        assert value in customer

    business = review.business_impact
    assert breach.affected_suppliers[0] in business
    deadline = breach.detected_at + timedelta(hours=72)
    assert AUTHORITY in business and _local(deadline) in business
    notify = breach.actions.get(title__startswith="Notify")
    assert notify.title in business
    assert duration(deadline - notify.completed_at) in business  # the margin
    sources = [
        s
        for sentence in _row(review, "business_impact").sentences
        for s in sentence["sources"]
    ]
    assert {"kind": "action", "id": notify.pk} in [
        {"kind": s["kind"], "id": s["id"]} for s in sources
    ]


def test_a_late_notification_is_called_late(breach_type, resolve, manager):
    incident = resolve("SEV-1", incident_type=breach_type)
    review = incident.review
    action = ActionItem.objects.create(
        incident=incident,
        title="Notify the lead supervisory authority",
        status=ActionItem.Status.DONE,
        completed_at=incident.detected_at + timedelta(hours=80),
    )
    services.review_draft(review=review, actor=manager)
    review.refresh_from_db()
    late_by = action.completed_at - incident.notification_deadline
    assert duration(late_by) in review.business_impact
    assert "late" in review.business_impact


def test_response_names_role_holders_hand_overs_actions_and_updates(breach, cora):
    text = breach.review.response
    commanders = breach.assignments.filter(role__slug="commander").order_by(
        "started_at"
    )
    assert [a.user for a in commanders] == [
        breach.assignments.get(role__slug="commander", ended_at__isnull=False).user,
        cora,
    ]
    for assignment in breach.assignments.all():
        assert assignment.user.display_name in text
        assert assignment.role.name in text
    done = breach.actions.filter(status="done")
    still_open = breach.actions.exclude(status__in=["done", "cancelled"])
    assert f"{done.count()} of {breach.actions.count()}" in text
    for action in list(done) + list(still_open):
        assert action.title in text
    assert cora.display_name in text  # the open action's owner
    updates = breach.stakeholder_updates.order_by("created_at")
    assert str(updates.count()) in text
    cadence = breach.severity.update_cadence
    moments = [
        breach.severity_confirmed_at,
        *[u.created_at for u in updates],
        breach.mitigated_at,
    ]
    gaps = [b - a for a, b in zip(moments, moments[1:], strict=False)]
    longest_missed = max((g for g in gaps if g > cadence), default=None)
    if longest_missed is None:
        assert "kept" in text
    else:
        assert "missed" in text and duration(longest_missed) in text


def test_drafting_is_deterministic(breach, manager):
    review = breach.review
    before = {row.section: row.text for row in review.draft_sections.all()}
    outcome = services.review_draft(review=review, actor=manager)
    assert set(outcome.values()) == {"unchanged"}
    assert {row.section: row.text for row in review.draft_sections.all()} == before


def test_redraft_follows_the_record_where_nobody_wrote(breach, manager):
    review = breach.review
    action = breach.actions.get(title="Ask the recipients to delete the pages")
    incident_services.action_complete(action=action, actor=manager)

    outcome = services.review_draft(review=review, actor=manager)

    review.refresh_from_db()
    assert outcome["response"] == "drafted"
    assert "Still open" not in review.response
    assert _row(review, "response").is_draft(review)


def test_redraft_never_overwrites_a_persons_text_without_asking(breach, manager):
    review = breach.review
    mine = "Cora and Mia ran it well.\r\nThe updates were late."
    services.review_update(review=review, actor=manager, response=mine)
    action = breach.actions.get(title="Ask the recipients to delete the pages")
    incident_services.action_complete(action=action, actor=manager)

    outcome = services.review_draft(review=review, actor=manager)

    review.refresh_from_db()
    row = _row(review, "response")
    assert outcome["response"] == "kept"
    assert review.response == mine.strip()
    assert row.pending_text and "Still open" not in row.pending_text
    assert not row.is_draft(review)
    # asked, the person takes the newer draft: it is a draft again
    services.review_draft_take(review=review, actor=manager, section="response")
    review.refresh_from_db()
    assert review.response == _row(review, "response").text
    assert _row(review, "response").is_draft(review)


def test_a_persons_edit_ends_the_draft_mark(breach, manager):
    review = breach.review
    services.review_update(review=review, actor=manager, summary="My own summary")
    review.refresh_from_db()
    assert "summary" not in draft_context(review, manager)["drafted"]
    assert not _row(review, "summary").is_draft(review)
    # an unchanged record has nothing new to offer
    assert services.review_draft(review=review, actor=manager)["summary"] == "unchanged"
    assert _row(review, "summary").pending_text == ""


def test_accepting_keeps_who_and_when_and_redraft_then_asks(breach, manager):
    review = breach.review
    accepted = services.review_draft_accept(
        review=review, actor=manager, sections=["response"]
    )
    row = _row(review, "response")
    assert accepted == ["response"]
    assert row.accepted_by == manager and row.accepted_at is not None
    assert not row.is_draft(review)
    action = breach.actions.get(title="Ask the recipients to delete the pages")
    incident_services.action_complete(action=action, actor=manager)

    assert services.review_draft(review=review, actor=manager)["response"] == "kept"
    review.refresh_from_db()
    assert review.response == row.text  # the accepted text stands


def test_an_unaccepted_drafted_summary_does_not_count_for_submission(breach, manager):
    review = breach.review
    services.review_update(review=review, actor=manager, root_cause="A cache key.")
    with pytest.raises(InvalidTransition, match="drafted summary is not accepted"):
        services.review_submit(review=review, actor=manager)

    services.review_draft_accept(review=review, actor=manager, sections=["summary"])
    review = services.review_submit(review=review, actor=manager)

    assert review.status == Review.Status.IN_REVIEW
    # the rest was accepted on the submitter's name, and the record says so
    for row in review.draft_sections.filter(
        section__in=["customer_impact", "business_impact", "response"]
    ):
        assert row.accepted_by == manager
    entry = TimelineEntry.objects.filter(incident=breach, kind="review").last()
    assert set(entry.data["accepted"]) == {
        "customer_impact",
        "business_impact",
        "response",
    }


def _published(resolve, manager, reviewer, **kwargs):
    incident = resolve("SEV-2", **kwargs)
    review = incident.review
    services.review_update(
        review=review,
        actor=manager,
        summary="The cache served pages across sessions.",
        root_cause="The cache key ignored the session.",
    )
    services.review_set_five_whys(
        review=review,
        actor=manager,
        whys=[("Why were pages shared?", "The cache key ignored the session.")],
    )
    from reviews.models import ContributingFactorCategory

    category = ContributingFactorCategory.objects.get(slug="change")
    services.review_set_factors(
        review=review, actor=manager, factors=[(category, "A cache rule change.")]
    )
    services.follow_up_add(review=review, actor=manager, title="Test cache keys in CI")
    services.review_submit(review=review, actor=manager)
    services.review_approve(review=review, actor=reviewer)
    services.review_publish(review=review, actor=manager)
    return review


def test_suggestions_come_from_similar_reviews_with_links(
    breach_type, resolve, manager, reviewer
):
    earlier = _published(
        resolve,
        manager,
        reviewer,
        incident_type=breach_type,
        at=WEDNESDAY - timedelta(days=30),
    )
    later = resolve("SEV-1", incident_type=breach_type).review

    found = draft_context(later, manager)["suggestions"]

    assert {
        (f["category"], f["description"], f["reference"]) for f in found["factors"]
    } == {("change", "A cache rule change.", earlier.incident.reference)}
    assert found["factors"][0]["href"] == f"/reviews/{earlier.pk}/"
    assert ("Why were pages shared?", earlier.incident.reference) in {
        (w["why"], w.get("reference")) for w in found["five_whys"]
    }
    assert ("Test cache keys in CI", earlier.incident.reference) in {
        (f["title"], f.get("reference")) for f in found["follow_ups"]
    }


def test_suggestions_from_an_incident_the_reader_may_not_see_are_hidden(
    resolve, manager, reviewer, outsider
):
    secret_type = IncidentTypeFactory(
        slug="insider-threat",
        restricted=True,
        restricted_groups=[groups.INCIDENT_MANAGERS, groups.REVIEWERS],
    )
    _published(
        resolve,
        manager,
        reviewer,
        incident_type=secret_type,
        at=WEDNESDAY - timedelta(days=30),
    )
    later = resolve("SEV-1", incident_type=secret_type).review
    later.incident.restricted = False  # this one is open to all
    later.incident.save(update_fields=["restricted"])

    assert draft_context(later, manager)["suggestions"]["factors"]
    hidden = draft_context(later, outsider)["suggestions"]
    assert hidden["factors"] == []
    assert all(not item.get("reference") for item in hidden["five_whys"])


def test_only_editors_redraft(breach, outsider):
    from incidentops.exceptions import NotPermitted

    with pytest.raises(NotPermitted):
        services.review_draft(review=breach.review, actor=outsider)


# --- portal and API ---------------------------------------------------------------


def _login(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def test_the_review_page_shows_the_draft_marked_with_its_sources(breach, manager):
    review = breach.review
    page = _login(manager).get(f"/reviews/{review.pk}/").content.decode()

    assert 'data-testid="draft-panel"' in page
    assert 'data-testid="draft-badge-summary"' in page
    confirmed = TimelineEntry.objects.get(incident=breach, kind="severity_confirmed")
    assert f'href="{breach.get_absolute_url()}#entry-{confirmed.sequence}"' in page
    assert "Redraft from the record" in page


def test_accepting_in_the_portal_removes_the_mark(breach, manager):
    review = breach.review
    client = _login(manager)
    response = client.post(
        f"/reviews/{review.pk}/",
        {"section": "draft", "op": "accept", "target": "summary"},
    )
    assert response.status_code == 302
    page = client.get(f"/reviews/{review.pk}/").content.decode()
    assert 'data-testid="draft-badge-summary"' not in page
    assert 'data-testid="draft-badge-response"' in page
    assert _row(review, "summary").accepted_by == manager


def test_a_portal_redraft_offers_the_newer_draft_beside_the_persons_text(
    breach, manager
):
    review = breach.review
    client = _login(manager)
    services.review_update(review=review, actor=manager, response="My words.")
    action = breach.actions.get(title="Ask the recipients to delete the pages")
    incident_services.action_complete(action=action, actor=manager)

    client.post(f"/reviews/{review.pk}/", {"section": "draft", "op": "redraft"})

    page = client.get(f"/reviews/{review.pk}/").content.decode()
    assert 'data-testid="pending-response"' in page
    review.refresh_from_db()
    assert review.response == "My words."
    client.post(
        f"/reviews/{review.pk}/",
        {"section": "draft", "op": "dismiss", "target": "response"},
    )
    assert _row(review, "response").pending_text == ""


def test_a_suggested_follow_up_is_added_in_one_click(breach, manager):
    review = breach.review
    response = _login(manager).post(
        f"/reviews/{review.pk}/",
        {"section": "draft", "op": "add_follow_up", "target": "0"},
    )
    assert response.status_code == 302
    assert review.follow_ups.get().title == "Ask the recipients to delete the pages"


def test_exports_mark_unaccepted_drafts(breach, manager):
    review = breach.review
    services.review_draft_accept(review=review, actor=manager, sections=["summary"])
    markdown = _login(manager).get(f"/reviews/{review.pk}/review.md").content.decode()
    assert "## Summary\n" in markdown
    assert "## How the response went (draft, not accepted)" in markdown
    printed = _login(manager).get(f"/reviews/{review.pk}/print/").content.decode()
    assert (
        "Draft — not accepted" in printed and review.response.split("\n")[0] in printed
    )


def test_api_reads_drafts_and_accepts_them(breach, manager):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(manager)
    review = breach.review
    url = f"/api/v1/reviews/{review.pk}/"
    body = client.get(url).json()
    states = {d["section"]: d["state"] for d in body["drafts"]}
    assert states == dict.fromkeys(
        ["summary", "customer_impact", "business_impact", "response"], "draft"
    )
    assert body["response"] == _row(review, "response").text

    accepted = client.post(
        f"{url}accept-draft/", {"sections": ["summary"]}, format="json"
    ).json()
    summary = next(d for d in accepted["drafts"] if d["section"] == "summary")
    assert summary["state"] == "accepted" and summary["accepted_by"] == "mia"

    client.patch(url, {"response": "Written by Mia."}, format="json")
    redrafted = client.post(f"{url}redraft/").json()
    response = next(d for d in redrafted["drafts"] if d["section"] == "response")
    assert response["state"] == "edited" and redrafted["response"] == "Written by Mia."
    suggestions = client.get(f"{url}draft-suggestions/").json()
    assert set(suggestions) == {"factors", "five_whys", "follow_ups"}


# --- regulatory notifications -------------------------------------------------------


def _notify(incident, actor, *, hours, **values):
    return incident_services.regulatory_notification_record(
        incident=incident,
        actor=actor,
        notified_at=incident.detected_at + timedelta(hours=hours),
        method=values.pop("method", "online_form"),
        now=incident.detected_at + timedelta(hours=hours, minutes=5),
        **values,
    )


def test_business_impact_states_who_was_told_when_and_whether_in_time(
    breach, manager, cora
):
    row = _notify(breach, manager, hours=30, notified_by=cora, reference="DPA-77")

    services.review_draft(review=breach.review, actor=manager)

    review = Review.objects.get(pk=breach.review.pk)
    business = review.business_impact
    deadline = breach.detected_at + timedelta(
        hours=breach.incident_type.notification_deadline_hours
    )
    assert row.deadline_at == deadline
    assert breach.incident_type.notification_authority in business
    assert _local(row.notified_at) in business and _local(deadline) in business
    assert cora.display_name in business and "DPA-77" in business
    assert row.get_method_display().lower() in business
    assert "in time" in business and duration(deadline - row.notified_at) in business
    entry = TimelineEntry.objects.get(incident=breach, kind="regulatory")
    sources = [
        (s["kind"], s.get("id"))
        for sentence in _row(review, "business_impact").sentences
        for s in sentence["sources"]
    ]
    assert ("regulatory", row.pk) in sources and ("entry", entry.sequence) in sources


def test_a_notification_after_the_legal_deadline_reads_late(breach, manager):
    deadline = breach.detected_at + timedelta(hours=24)
    row = _notify(breach, manager, hours=26, deadline_at=deadline, method="email")

    services.review_draft(review=breach.review, actor=manager)

    business = Review.objects.get(pk=breach.review.pk).business_impact
    assert "late" in business and duration(row.notified_at - deadline) in business
    assert _local(deadline) in business


@pytest.fixture
def breach_template(breach_type):
    from reviews.models import ReviewTemplate, ReviewTemplateSection

    template = ReviewTemplate.objects.create(
        name="Breach review", incident_type=breach_type
    )
    ReviewTemplateSection.objects.create(
        template=template,
        order=1,
        key="authority-notified",
        title="Which authority was told, and when?",
        required=True,
        drafted_from="regulatory_notifications",
    )
    return template


def test_the_breach_question_is_drafted_from_the_record_and_needs_accepting(
    breach, breach_template, manager
):
    row = _notify(breach, manager, hours=20, reference="DPA-5")
    review = breach.review
    services.review_draft(review=review, actor=manager)
    review = Review.objects.get(pk=review.pk)

    answer = review.answers["authority-notified"]
    assert row.authority in answer and _local(row.notified_at) in answer
    assert "DPA-5" in answer and "in time" in answer
    assert "answer:authority-notified" in draft_context(review, manager)["drafted"]
    services.review_update(
        review=review,
        actor=manager,
        summary="A cache key leaked pages.",
        root_cause="The cache key ignored the session.",
    )
    services.review_draft_accept(review=review, actor=manager, sections=["summary"])
    with pytest.raises(InvalidTransition, match="Which authority was told"):
        services.review_submit(review=review, actor=manager)


def test_a_persons_answer_is_never_redrafted_silently(breach, breach_template, manager):
    review = breach.review
    services.review_draft(review=review, actor=manager)
    mine = "We told the DPA by phone first."
    services.review_set_answers(
        review=review, actor=manager, answers={"authority-notified": mine}
    )
    _notify(breach, manager, hours=10)

    outcome = services.review_draft(review=review, actor=manager)

    review = Review.objects.get(pk=review.pk)
    assert outcome["answer:authority-notified"] == "kept"
    assert review.answers["authority-notified"] == mine
    pending = _row(review, "answer:authority-notified").pending_text
    assert breach.incident_type.notification_authority in pending
    services.review_draft_take(
        review=review, actor=manager, section="answer:authority-notified"
    )
    review = Review.objects.get(pk=review.pk)
    assert review.answers["authority-notified"] == pending


def test_exports_show_the_notification_in_the_organisations_zone(breach, manager):
    row = _notify(breach, manager, hours=30, reference="DPA-9")
    client = _login(manager)
    local = row.notified_at.astimezone(org_zone())
    page = client.get(f"/reviews/{breach.review.pk}/").content.decode()
    assert 'data-testid="review-regulatory"' in page and "DPA-9" in page
    printed = client.get(f"/reviews/{breach.review.pk}/print/").content.decode()
    assert "DPA-9" in printed and local.strftime("%H:%M") in printed
    markdown = client.get(f"/reviews/{breach.review.pk}/review.md").content.decode()
    assert "## Regulatory notifications" in markdown
    assert f"{local:%Y-%m-%d %H:%M}" in markdown and "in time" in markdown


def test_regulatory_facts_stay_hidden_with_a_restricted_incident(
    breach, manager, outsider
):
    breach.restricted = True
    breach.save(update_fields=["restricted"])
    _notify(breach, manager, hours=30, reference="DPA-SECRET")
    client = _login(outsider)
    for path in ("", "print/", "review.md", "review.pdf"):
        assert client.get(f"/reviews/{breach.review.pk}/{path}").status_code == 404


# --- the drafting buttons inside the editor, and the side-by-side choice ---------


def _editor_post(review, **fields):
    """The editor's one form as the page sends it: every text field with what
    the review holds unless given, no rows."""
    from reviews.models import CONTENT_FIELDS

    data = {
        "section": "editor",
        "version": services.review_version(review),
        "whys-TOTAL_FORMS": "0",
        "whys-INITIAL_FORMS": "0",
        "factors-TOTAL_FORMS": "0",
        "factors-INITIAL_FORMS": "0",
        "timeline-TOTAL_FORMS": "0",
        "timeline-INITIAL_FORMS": "0",
    }
    data.update({name: getattr(review, name) for name in CONTENT_FIELDS})
    data.update(fields)
    return data


def test_line_diff_sets_the_persons_text_beside_the_draft():
    from reviews.drafting.present import line_diff

    rows = line_diff(
        "Mia commanded.\nThe updates were late.\nMine only.",
        "Mia commanded.\nThe updates were on time.\nA new fact.",
    )
    assert rows[0] == {
        "mine": "Mia commanded.",
        "draft": "Mia commanded.",
        "change": "same",
    }
    changed = [r for r in rows if r["change"] == "changed"]
    assert changed[0]["mine"] == "The updates were late."
    assert ("late.", False) in changed[0]["mine_words"]
    assert ("on", False) in changed[0]["draft_words"]
    assert ("updates", True) in changed[0]["draft_words"]
    mine = [r["mine"] for r in rows if r["mine"]]
    draft = [r["draft"] for r in rows if r["draft"]]
    assert mine == ["Mia commanded.", "The updates were late.", "Mine only."]
    assert draft == ["Mia commanded.", "The updates were on time.", "A new fact."]


def test_redraft_in_the_editor_saves_the_typed_words_then_asks_beside_them(
    breach, manager
):
    review = breach.review
    client = _login(manager)
    action = breach.actions.get(title="Ask the recipients to delete the pages")
    incident_services.action_complete(action=action, actor=manager)
    typed = "Cora ran it well.\nThe updates were late."

    response = client.post(
        f"/reviews/{review.pk}/",
        _editor_post(review, response=typed, draft_op="redraft"),
    )

    assert response.status_code == 302 and "?saved=" in response["Location"]
    review.refresh_from_db()
    assert review.response == typed  # every typed word kept
    row = _row(review, "response")
    assert row.pending_text and "Still open" not in row.pending_text
    page = client.get(f"/reviews/{review.pk}/").content.decode()
    assert 'data-testid="diff-response"' in page
    assert "The updates were late." in page and "<del>" in page and "<ins>" in page
    assert 'value="take:response"' in page and 'value="dismiss:response"' in page
    # the drafting buttons live inside the one editor form
    editor = page.index('id="review-editor"')
    assert (
        editor < page.index('data-testid="draft-panel"') < page.index("</form>", editor)
    )
    assert 'name="op"' not in page

    # the person picks the newer draft for this section
    client.post(
        f"/reviews/{review.pk}/",
        _editor_post(review, draft_op="take:response"),
    )
    review.refresh_from_db()
    assert review.response == row.pending_text
    assert _row(review, "response").is_draft(review)


def test_keep_my_text_in_the_editor_drops_the_newer_draft(breach, manager):
    review = breach.review
    services.review_update(review=review, actor=manager, response="My words.")
    action = breach.actions.get(title="Ask the recipients to delete the pages")
    incident_services.action_complete(action=action, actor=manager)
    services.review_draft(review=review, actor=manager)
    review.refresh_from_db()

    _login(manager).post(
        f"/reviews/{review.pk}/", _editor_post(review, draft_op="dismiss:response")
    )

    review.refresh_from_db()
    assert review.response == "My words."
    assert _row(review, "response").pending_text == ""


def test_accept_in_the_editor_saves_other_typing_and_keeps_who_accepted(
    breach, manager
):
    review = breach.review
    client = _login(manager)

    client.post(
        f"/reviews/{review.pk}/",
        _editor_post(review, lessons="Check cache keys.", draft_op="accept:summary"),
    )

    review.refresh_from_db()
    assert review.lessons == "Check cache keys."
    row = _row(review, "summary")
    assert row.accepted_by == manager and row.accepted_at is not None
    page = client.get(f"/reviews/{review.pk}/").content.decode()
    assert 'data-testid="accepted-summary"' in page and "Mia" in page
    assert 'data-testid="draft-badge-customer_impact"' in page


def test_a_stale_editor_save_applies_no_drafting_step(breach, manager):
    review = breach.review
    data = _editor_post(review, summary="Typed.", draft_op="accept:response")
    services.review_update(review=review, actor=manager, lessons="Someone else.")

    response = _login(manager).post(f"/reviews/{review.pk}/", data)

    assert response.status_code == 200 and "Typed." in response.content.decode()
    assert _row(review, "response").accepted_by is None


def test_the_admin_shows_drafts_and_who_accepted_them_read_only(breach, manager):
    from incidentops.models import User

    services.review_draft_accept(
        review=breach.review, actor=manager, sections=["summary"]
    )
    root = User.objects.create_superuser("root", "root@example.com", "pw-root-123")
    client = _login(root)
    page = client.get(f"/admin/reviews/review/{breach.review.pk}/change/")
    body = page.content.decode()
    assert page.status_code == 200
    assert "drafted from the record (who accepted what)" in body.lower()
    assert "accepted as drafted" in body and "draft, not accepted" in body
    assert 'name="draft_sections-0-text"' not in body  # read-only
