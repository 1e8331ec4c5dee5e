"""One parser per sender format, each a module with the same small interface.

A parser module has ``KIND`` (the ``Integration.kind`` it serves), ``LABEL``,
``PayloadSerializer`` (validate-only; also the body's OpenAPI shape),
``parse(payload) -> AlertBatch`` (raises ``MalformedAlert``) and ``SAMPLES``: a
list of ``(name, payload, expected AlertBatch)`` that the test suite walks, so
each format documents what it accepts and what it must read as.

To add a format: write a module like these, add it to ``PARSERS`` and to
``Integration.Kind``.
"""

from __future__ import annotations

from typing import Protocol

from incidents.ingestion.batch import AlertBatch
from incidents.ingestion.parsers import alertmanager, events_v2, generic


class Parser(Protocol):
    KIND: str
    LABEL: str
    PayloadSerializer: type
    SAMPLES: list

    def parse(self, payload) -> AlertBatch: ...


PARSERS: dict[str, Parser] = {
    alertmanager.KIND: alertmanager,
    generic.KIND: generic,
    events_v2.KIND: events_v2,
}


def parse(kind: str, payload) -> AlertBatch:
    """Read a decoded JSON body in the format of integration kind ``kind``.

    Raises ``MalformedAlert`` (with the first problem found) when it does not
    fit, ``KeyError`` for a kind without a parser.
    """
    return PARSERS[kind].parse(payload)
