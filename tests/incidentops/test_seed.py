from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command


def row_counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.label not in ("sessions.Session", "admin.LogEntry")
    }


@pytest.mark.django_db
def test_seed_demo_is_idempotent():
    call_command("seed_demo", stdout=StringIO())
    first = row_counts()

    call_command("seed_demo", stdout=StringIO())

    assert row_counts() == first
    assert first["incidentops.User"] >= 8
