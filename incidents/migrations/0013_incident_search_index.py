"""PostgreSQL's full-text index for searching past incidents: the same expression
``incidents.search.own_vector()`` builds (English, title, description and
resolution). Other databases search without it."""

from django.db import migrations

CREATE = """
CREATE INDEX IF NOT EXISTS incident_search_idx ON incidents_incident USING gin (
  to_tsvector('english'::regconfig,
    COALESCE(title, '') || ' ' || COALESCE(description, '') || ' '
    || COALESCE(resolution_summary, ''))
)
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS incident_search_idx")


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0012_insights_permission"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
