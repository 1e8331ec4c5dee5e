"""axe-core over the portal's main pages, laptop and phone width: no violations
of its WCAG 2.1 A/AA and best-practice rules, whatever their impact.

axe-core (MPL-2.0, Deque Systems) is vendored for the tests only, in
``tests/browser/vendor/axe.min.js`` (npm package ``axe-core``; replace the file
to upgrade). It is injected through the DevTools protocol, which the pages'
Content-Security-Policy does not govern, so the pages are tested as served."""

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from incidentops import groups
from incidents import services
from tests.factories import UserFactory, role, severity

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).parent / "vendor" / "axe.min.js"


def axe_violations(page) -> list[dict]:
    """Run axe-core on ``page``; its violations as axe reports them."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {
                runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
            });
            return r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(" ")),
            }));
        }"""
    )
    return result


@pytest.fixture
def war_room(transactional_db):
    """A commander, a comms lead, a reviewer; an open SEV-1 and a resolved SEV-2
    with its review."""
    mia = UserFactory(
        username="mia",
        first_name="Mia",
        last_name="Manager",
        groups=[groups.INCIDENT_MANAGERS, groups.RESPONDERS],
    )
    rita = UserFactory(username="rita", first_name="Rita", groups=[groups.RESPONDERS])
    rob = UserFactory(username="rob", first_name="Rob", groups=[groups.REVIEWERS])
    start = timezone.now() - timedelta(hours=4)
    open_one = services.incident_declare(
        actor=rita, title="Checkout returns 500 errors", customer_facing=True
    )
    services.incident_assign_role(
        incident=open_one, actor=mia, role=role("commander"), user=mia
    )
    services.incident_confirm_severity(
        incident=open_one, actor=mia, severity=severity("SEV-1"), reason="All down"
    )
    services.action_create(
        incident=open_one, actor=mia, title="Roll back the deploy", owner=rita
    )
    done = services.incident_declare(actor=rita, title="Search is slow", now=start)
    services.incident_assign_role(
        incident=done, actor=mia, role=role("commander"), user=mia, now=start
    )
    services.incident_confirm_severity(
        incident=done, actor=mia, severity=severity("SEV-2"), reason="x", now=start
    )
    for status in ("investigating", "resolved"):
        services.incident_transition(
            incident=done, actor=mia, status=status, note="Fixed", now=start
        )
    done.refresh_from_db()
    return {"mia": mia, "rita": rita, "rob": rob, "open": open_one, "done": done}


@pytest.mark.parametrize("width", [1280, 360])
def test_main_pages_have_no_axe_violations(war_room, open_session, live_server, width):
    page = open_session(war_room["mia"], width=width, height=844)
    review = war_room["done"].review
    paths = {
        "board": "/",
        "declare": "/incidents/new/",
        "incident": war_room["open"].get_absolute_url(),
        "resolved incident": war_room["done"].get_absolute_url(),
        "my work": "/my/",
        "reviews": "/reviews/",
        "review": f"/reviews/{review.pk}/",
        "insights": "/insights/",
        "not found": "/incidents/INC-1999-0001/",
    }
    report = {}
    checked = 0
    for name, path in paths.items():
        response = page.goto(live_server.url + path)
        assert response.status == (404 if name == "not found" else 200), name
        found = axe_violations(page)
        checked += 1
        if found:
            report[name] = found
    assert not report, json.dumps(report, indent=1)
    assert checked == len(paths)
