from incidents import services
from incidents.models import Integration
from tests.factories import UserFactory, role, severity


def test_incident_history_records_each_acting_user(incident, responder, manager):
    services.incident_update(incident=incident, actor=responder, impact="Payments")
    services.incident_assign_role(
        incident=incident, actor=manager, role=role("commander"), user=manager
    )
    services.incident_confirm_severity(
        incident=incident, actor=manager, severity=severity("SEV-2")
    )

    rows = list(incident.history.order_by("history_id"))
    assert [(r.history_type, r.history_user) for r in rows] == [
        ("+", responder),
        ("~", responder),
        ("~", manager),  # acknowledged_at set by the first commander
        ("~", manager),
    ]
    assert rows[-1].severity_id == severity("SEV-2").pk


def test_assignment_and_action_history_record_the_actor(commanded, manager):
    assignment = commanded.assignments.get()
    assert assignment.history.get().history_user == manager
    action = services.action_create(incident=commanded, actor=manager, title="X")
    services.action_complete(action=action, actor=manager)
    assert [h.history_user for h in action.history.all()] == [manager, manager]


def test_integration_history_never_stores_the_secret_hash(db):
    account = UserFactory(service_account=True)
    integration, secret = services.integration_create(
        actor=None, name="am", kind="alertmanager", service_account=account
    )
    assert integration.check_secret(secret)
    assert not integration.check_secret(secret + "x")
    assert integration.secret_hash != secret
    history_fields = {f.name for f in Integration.history.model._meta.fields}
    assert "secret_hash" not in history_fields
