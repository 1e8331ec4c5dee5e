"""The provider registry (``incidents.providers``): panels other apps add to the
portal's pages, and role suggestions; reviews fills it in ``ready()``."""

import pytest

from incidents import providers, services
from tests.factories import UserFactory, role

pytestmark = pytest.mark.django_db


@pytest.fixture
def panel(settings, tmp_path):
    """A panel registered for the test only, rendered from a template of its own."""
    (tmp_path / "probe.html").write_text("<p>Probe for {{ reference }}</p>")
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], tmp_path]}
    ]
    shown = {"yes": True}

    def context(*, request, incident):
        if not shown["yes"]:
            return None
        return {"reference": incident.reference, "viewer": request.user.username}

    providers.register_panel(
        providers.Slot.INCIDENT,
        providers.Panel(
            key="probe", title="Probe", template="probe.html", context=context
        ),
    )
    yield shown
    providers.unregister_panel(providers.Slot.INCIDENT, "probe")


def test_a_registered_panel_is_a_section_of_the_incident_page(
    client, responder, incident, panel
):
    client.force_login(responder)
    html = client.get(f"/incidents/{incident.reference}/").content.decode()
    assert 'aria-labelledby="probe-heading"' in html
    assert '<h2 id="probe-heading">Probe</h2>' in html
    assert f"<p>Probe for {incident.reference}</p>" in html


def test_a_panel_whose_context_is_none_is_left_out(client, responder, incident, panel):
    panel["yes"] = False
    client.force_login(responder)
    html = client.get(f"/incidents/{incident.reference}/").content.decode()
    assert "probe-heading" not in html


def test_panels_come_in_order_then_key():
    def nothing(**_):
        return None

    for key, order in (("b", 5), ("a", 5), ("c", 1)):
        providers.register_panel(
            providers.Slot.INSIGHTS,
            providers.Panel(
                key=key, title=key, template="x", context=nothing, order=order
            ),
        )
    try:
        keys = [p.key for p in providers.panels(providers.Slot.INSIGHTS)]
        assert [key for key in keys if key in "abc"] == ["c", "a", "b"]
    finally:
        for key in "abc":
            providers.unregister_panel(providers.Slot.INSIGHTS, key)


def test_reviews_registers_its_panels_in_ready():
    assert "review" in [p.key for p in providers.panels(providers.Slot.INCIDENT)]
    assert "my-reviews" in [p.key for p in providers.panels(providers.Slot.MY_WORK)]


def test_the_incident_page_shows_the_review_panel_through_the_registry(
    client, responder, incident
):
    client.force_login(responder)
    html = client.get(f"/incidents/{incident.reference}/").content.decode()
    assert '<h2 id="review-heading">Post-incident review</h2>' in html
    assert "No post-incident review yet: one is filed when the incident" in html


def test_my_work_shows_the_reviews_panel_through_the_registry(client, responder):
    client.force_login(responder)
    html = client.get("/my/").content.decode()
    assert '<h2 id="my-reviews-heading">Reviews</h2>' in html
    assert "No reviews or follow-ups waiting for you." in html


# --- role suggestions ------------------------------------------------------------


class FixedProvider:
    def __init__(self, *suggestions):
        self.suggestions = suggestions
        self.asked = []

    def suggest_roles(self, incident, user):
        self.asked.append((incident.pk, user.pk))
        return list(self.suggestions)


@pytest.fixture
def register():
    keys = []

    def add(key, provider):
        providers.register_role_suggestion_provider(key, provider)
        keys.append(key)
        return provider

    yield add
    for key in keys:
        providers.unregister_role_suggestion_provider(key)


def test_no_provider_no_suggestion(incident, responder):
    assert providers.role_suggestions(incident, responder) == []


def test_suggestions_are_humans_only_once_each_and_not_for_a_role_held(
    incident, responder, manager, register
):
    # given
    oncall = UserFactory(username="olga")
    robot = UserFactory(username="pager-bot", service_account=True)
    gone = UserFactory(username="gone", is_active=False)
    services.incident_assign_role(
        incident=incident, actor=manager, role=role("commander"), user=manager
    )
    first = register(
        "oncall",
        FixedProvider(
            providers.RoleSuggestion("commander", oncall, "On call for checkout-api"),
            providers.RoleSuggestion("commander", robot, "Bot on call"),
            providers.RoleSuggestion("operations", gone, "Left the company"),
            providers.RoleSuggestion("commander", manager, "Already commands it"),
        ),
    )
    register(
        "experts",
        FixedProvider(
            providers.RoleSuggestion("commander", oncall, "Led a similar incident"),
            providers.RoleSuggestion("operations", oncall, "Owns checkout-api"),
        ),
    )
    # when
    suggestions = providers.role_suggestions(incident, responder)
    # then
    assert [(s.role, s.user.username, s.reason) for s in suggestions] == [
        ("commander", "olga", "On call for checkout-api"),
        ("operations", "olga", "Owns checkout-api"),
    ]
    assert first.asked == [(incident.pk, responder.pk)]
