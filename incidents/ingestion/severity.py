"""From the sender's severity word to a suggested severity level.

Each integration has a label map (``Integration.severity_label_map``, editable
in the admin) from words to severity codes; it starts as
``DEFAULT_SEVERITY_LABEL_MAP``. Lookups ignore case and surrounding space, and a
word that is itself a severity code (``sev-2``, ``SEV-2``) maps to that level.
The result is only ever a *suggestion*: a person confirms severity (control 2).
"""

from __future__ import annotations

from incidents.ingestion import configcache
from incidents.models import SeverityLevel

# The words monitoring tools commonly use, by the level they usually mean.
DEFAULT_SEVERITY_LABEL_MAP = {
    **dict.fromkeys(("critical", "page", "emergency", "p1", "sev-1", "sev1"), "SEV-1"),
    **dict.fromkeys(("error", "high", "major", "p2", "sev-2", "sev2"), "SEV-2"),
    **dict.fromkeys(("warning", "medium", "p3", "sev-3", "sev3"), "SEV-3"),
    **dict.fromkeys(("info", "low", "p4", "p5", "sev-4", "sev4"), "SEV-4"),
}


def default_label_map(known_codes=None) -> dict[str, str]:
    """The default map, limited to the severity codes that exist."""
    if known_codes is None:
        known_codes = set(SeverityLevel.objects.values_list("code", flat=True))
    return {w: c for w, c in DEFAULT_SEVERITY_LABEL_MAP.items() if c in known_codes}


def normalise_word(word: str) -> str:
    return " ".join(str(word).split()).lower()


def normalise_map(mapping: dict) -> dict[str, str]:
    """Keys lower-cased and trimmed, so the admin's ``Critical`` and
    ``critical`` are one entry."""
    return {normalise_word(k): str(v).strip() for k, v in (mapping or {}).items()}


def _levels_by_code() -> dict[str, SeverityLevel]:
    return {level.code.lower(): level for level in SeverityLevel.objects.all()}


class SeverityMapper:
    """Maps words to ``SeverityLevel`` rows for one integration, reading the
    levels once (a delivery may carry thousands of alerts), from the process's
    copy when it is current (``configcache``)."""

    def __init__(self, label_map: dict):
        self._map = normalise_map(label_map)
        self._levels: dict[str, SeverityLevel] | None = None

    def _by_code(self) -> dict[str, SeverityLevel]:
        if self._levels is None:  # read once, and only when a word needs it
            self._levels = configcache.cached("severity-levels", _levels_by_code)
        return self._levels

    def level(self, word: str) -> SeverityLevel | None:
        """The level ``word`` suggests, or None for an unknown or blank word."""
        word = normalise_word(word or "")
        if not word:
            return None
        code = self._map.get(word) or word
        return self._by_code().get(code.lower())

    def by_id(self, pk: int | None) -> SeverityLevel | None:
        """The level with primary key ``pk`` (None for None), from the same read."""
        if pk is None:
            return None
        return next((lvl for lvl in self._by_code().values() if lvl.pk == pk), None)

    @staticmethod
    def worst(levels) -> SeverityLevel | None:
        """The most severe of ``levels`` (lowest rank), ignoring None."""
        present = [lvl for lvl in levels if lvl is not None]
        return min(present, key=lambda lvl: lvl.rank, default=None)
