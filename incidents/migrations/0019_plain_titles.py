"""Titles are plain one-line text (``incidentops.text.TitleField``): the
stored titles of Incident, ActionItem, PlaybookStep
lose bidirectional override characters and other control characters, in their
history rows too (the same words, without what makes a page or an e-mail
subject read differently from what was written). Timeline entries, which are
hash-chained, are left as they were written."""

from django.db import migrations

import incidentops.text
from incidentops.text import plain_title

MODELS = [
    "Incident",
    "HistoricalIncident",
    "ActionItem",
    "HistoricalActionItem",
    "PlaybookStep",
    "HistoricalPlaybookStep",
]
# What ``plain_title`` removes or replaces (NUL aside: no stored text holds it).
UNPLAIN = "[\u202a-\u202e\u2066-\u2069\x01-\x1f\x7f-\x9f]"


def clean_titles(apps, schema_editor):
    for name in MODELS:
        model = apps.get_model("incidents", name)
        for row in model.objects.filter(title__regex=UNPLAIN).only("pk", "title"):
            row.title = plain_title(row.title)
            row.save(update_fields=["title"])


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0018_import_permission"),
    ]

    operations = [
        migrations.AlterField(
            model_name="actionitem",
            name="title",
            field=incidentops.text.TitleField(max_length=200),
        ),
        migrations.AlterField(
            model_name="historicalactionitem",
            name="title",
            field=incidentops.text.TitleField(max_length=200),
        ),
        migrations.AlterField(
            model_name="historicalincident",
            name="title",
            field=incidentops.text.TitleField(max_length=200),
        ),
        migrations.AlterField(
            model_name="historicalplaybookstep",
            name="title",
            field=incidentops.text.TitleField(max_length=200),
        ),
        migrations.AlterField(
            model_name="incident",
            name="title",
            field=incidentops.text.TitleField(max_length=200),
        ),
        migrations.AlterField(
            model_name="playbookstep",
            name="title",
            field=incidentops.text.TitleField(max_length=200),
        ),
        migrations.RunPython(clean_titles, migrations.RunPython.noop),
    ]
