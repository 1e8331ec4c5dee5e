"""Review templates: the most specific active template per incident type (or
family) and severity applies; the review shows its sections and guidance;
submitting is refused while a required section is empty; the demo seeds one
per family."""

import pytest
from django.test import Client

from incidentops.exceptions import DomainError, InvalidTransition
from reviews import services
from reviews.models import Review, ReviewTemplate, ReviewTemplateSection
from reviews.review_templates import template_for
from tests.factories import IncidentFamilyFactory, IncidentTypeFactory, severity
from tests.reviews.conftest import write

pytestmark = pytest.mark.django_db


def _template(name, sections, **match):
    template = ReviewTemplate.objects.create(name=name, **match)
    for order, (key, title, required) in enumerate(sections, start=1):
        ReviewTemplateSection.objects.create(
            template=template,
            order=order,
            key=key,
            title=title,
            required=required,
            guidance=f"Guidance for {title}",
        )
    return template


@pytest.fixture
def breach_type(db):
    family = IncidentFamilyFactory(slug="security-data-breach", name="Security")
    return IncidentTypeFactory(slug="personal-data-breach", family=family)


def test_the_most_specific_template_applies(resolve, breach_type):
    family = breach_type.family
    anything = _template("Any", [("summary", "Summary", True)])
    of_family = _template("Family", [("summary", "Summary", True)], family=family)
    sev1_family = _template(
        "Family SEV-1",
        [("summary", "Summary", True)],
        family=family,
        severity=severity("SEV-1"),
    )
    of_type = _template(
        "Type", [("summary", "Summary", True)], incident_type=breach_type
    )
    other = resolve("SEV-2", title="Something else").review
    sev2 = resolve("SEV-2", incident_type=breach_type).review
    sev1 = resolve("SEV-1", incident_type=breach_type).review

    assert template_for(other) == anything
    assert template_for(sev1) == of_type  # a type beats a family
    of_type.is_active = False
    of_type.save()
    assert template_for(sev1) == sev1_family  # a named severity beats any
    assert template_for(sev2) == of_family


def test_submit_is_refused_while_a_required_section_is_empty(
    resolve, breach_type, manager
):
    _template(
        "Breach",
        [
            ("summary", "Summary", True),
            ("data-exposed", "What data was exposed?", True),
            ("authority-notified", "Which authority was told, and when?", True),
            ("went_well", "What went well", False),
        ],
        incident_type=breach_type,
    )
    review = resolve("SEV-1", incident_type=breach_type).review
    write(review, manager)

    with pytest.raises(InvalidTransition) as refusal:
        services.review_submit(review=review, actor=manager)
    assert "What data was exposed?" in refusal.value.message
    assert "Which authority was told, and when?" in refusal.value.message
    assert "What went well" not in refusal.value.message

    services.review_set_answers(
        review=review,
        actor=manager,
        answers={
            "data-exposed": "Order pages: names and addresses.",
            "authority-notified": "The ICO, 3 June 14:00, 30 h after awareness.",
        },
    )
    assert services.review_submit(review=review, actor=manager).status == (
        Review.Status.IN_REVIEW
    )


def test_a_required_field_section_holding_only_a_draft_is_missing(resolve, manager):
    _template(
        "Outage",
        [("summary", "Summary", True), ("response", "How the response went", True)],
    )
    review = resolve("SEV-2").review
    write(review, manager)
    with pytest.raises(InvalidTransition, match="How the response went"):
        services.review_submit(review=review, actor=manager)
    services.review_draft_accept(review=review, actor=manager, sections=["response"])
    assert services.review_submit(review=review, actor=manager).status == (
        Review.Status.IN_REVIEW
    )


def test_answers_only_to_the_templates_questions(resolve, manager):
    _template("Any", [("data-exposed", "What data?", False)])
    review = resolve("SEV-2").review
    with pytest.raises(DomainError, match="not a question"):
        services.review_set_answers(review=review, actor=manager, answers={"x": "y"})
    services.review_set_answers(
        review=review, actor=manager, answers={"data-exposed": " Names "}
    )
    review.refresh_from_db()
    assert review.answers == {"data-exposed": "Names"}


def test_the_review_page_shows_the_template_guidance_and_questions(
    resolve, breach_type, manager
):
    _template(
        "Breach",
        [
            ("summary", "Summary", True),
            ("data-exposed", "What data was exposed?", True),
        ],
        incident_type=breach_type,
    )
    review = resolve("SEV-1", incident_type=breach_type).review
    client = Client()
    client.force_login(manager)
    page = client.get(f"/reviews/{review.pk}/").content.decode()
    assert 'data-testid="template-questions"' in page
    assert "What data was exposed? (required)" in page
    assert "Guidance for What data was exposed?" in page
    assert "Summary (required)" in page and "Guidance for Summary" in page

    response = client.post(
        f"/reviews/{review.pk}/",
        {"section": "answers", "data-exposed": "Names and e-mail addresses"},
    )
    assert response.status_code == 302
    markdown = client.get(f"/reviews/{review.pk}/review.md").content.decode()
    assert "**What data was exposed?**\n\nNames and e-mail addresses" in markdown


def test_the_demo_seeds_a_template_per_family_and_a_breach_one(db):
    from incidents.seed import seed_incident_types, seed_severity_framework
    from reviews.seed_templates import seed_templates

    seed_incident_types(seed_severity_framework())
    assert seed_templates() > 0
    assert seed_templates() == 0  # idempotent
    families = set(
        ReviewTemplate.objects.exclude(family=None).values_list(
            "family__slug", flat=True
        )
    )
    assert families == {
        "service-outage",
        "security-data-breach",
        "supply-chain-disruption",
        "compliance-event",
    }
    breach = ReviewTemplate.objects.get(incident_type__slug="personal-data-breach")
    required = " ".join(
        breach.sections.filter(required=True).values_list("title", flat=True)
    ).lower()
    for word in ("data", "whose", "authority", "when"):
        assert word in required


def test_the_api_reads_and_writes_answers(resolve, manager):
    from rest_framework.test import APIClient

    _template("Any", [("data-exposed", "What data?", True)])
    review = resolve("SEV-2").review
    client = APIClient()
    client.force_authenticate(manager)
    url = f"/api/v1/reviews/{review.pk}/"
    body = client.patch(url, {"answers": {"data-exposed": "Names"}}, format="json")
    assert body.status_code == 200 and body.json()["answers"] == {
        "data-exposed": "Names"
    }
    refused = client.patch(url, {"answers": {"colour": "red"}}, format="json")
    assert refused.status_code == 400


def test_configurators_define_templates_with_sections_in_the_admin(client, db):
    from incidentops import groups
    from tests.factories import UserFactory

    cora = UserFactory(username="cora", is_staff=True, groups=[groups.CONFIGURATORS])
    breach = IncidentTypeFactory(slug="personal-data-breach")
    client.force_login(cora)
    assert client.get("/admin/reviews/reviewtemplate/add/").status_code == 200

    response = client.post(
        "/admin/reviews/reviewtemplate/add/",
        {
            "name": "Breach",
            "incident_type": breach.pk,
            "severity": severity("SEV-1").pk,
            "guidance": "",
            "is_active": "on",
            "sections-TOTAL_FORMS": "1",
            "sections-INITIAL_FORMS": "0",
            "sections-0-order": "1",
            "sections-0-key": "data-exposed",
            "sections-0-title": "What data was exposed?",
            "sections-0-guidance": "Categories and fields.",
            "sections-0-required": "on",
        },
    )

    assert response.status_code == 302
    template = ReviewTemplate.objects.get(name="Breach")
    assert list(template.sections.values_list("key", "required")) == [
        ("data-exposed", True)
    ]
    listing = client.get("/admin/reviews/reviewtemplate/").content.decode()
    assert "Breach" in listing
