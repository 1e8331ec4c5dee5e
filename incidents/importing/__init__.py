"""Importing past incidents from files: IncidentOps' own CSV/JSON (``native``),
PagerDuty's incidents (``pagerduty``) and Grafana OnCall's alert groups
(``oncall``). One reader module per format turns a file into normalised
``ImportRecord``s; ``runner.import_incidents`` resolves names and writes each
through ``incidents.services.incident_import``. See ``docs/importing.md``.
"""

from incidents.importing.records import FileError, ImportRecord, RowError
from incidents.importing.runner import (
    FORMATS,
    ImportReport,
    RowResult,
    import_incidents,
)

__all__ = [
    "FORMATS",
    "FileError",
    "ImportRecord",
    "ImportReport",
    "RowError",
    "RowResult",
    "import_incidents",
]
