"""Reading the timeline as evidence: verify its hash chain, export it.

Writing is ``incidents.services.timeline_record`` alone.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django.utils import timezone

from incidents.models import Incident, TimelineEntry


@dataclass(frozen=True)
class ChainVerification:
    """The outcome of checking an incident's chain.

    ``first_broken`` is the sequence number of the first entry whose hash, link
    or numbering does not hold (None when the chain is intact).
    """

    ok: bool
    entries: int
    first_broken: int | None = None
    reason: str = ""
    last_hash: str = ""


def verify_timeline(incident: Incident) -> ChainVerification:
    """Recompute every entry's hash and check each links to the one before."""
    prev_hash = TimelineEntry.GENESIS_HASH
    expected_sequence = 1
    count = 0
    for entry in TimelineEntry.objects.filter(incident=incident).order_by("sequence"):
        count += 1
        problem = ""
        if entry.sequence != expected_sequence:
            problem = f"is out of sequence (expected #{expected_sequence})"
        elif entry.prev_hash != prev_hash:
            problem = "does not link to the entry before it"
        elif entry.compute_hash() != entry.hash:
            problem = "its content does not match its hash"
        if problem:
            return ChainVerification(
                ok=False,
                entries=count,
                first_broken=entry.sequence,
                reason=f"Entry #{entry.sequence} {problem}.",
                last_hash=prev_hash,
            )
        prev_hash = entry.hash
        expected_sequence += 1
    return ChainVerification(ok=True, entries=count, last_hash=prev_hash)


def export_timeline(incident: Incident) -> dict:
    """The incident's timeline as a JSON-able evidence document: each entry with
    everything its hash covers, plus the verification result, so a third party
    can recompute the chain (sha256 over the sorted, compact JSON of
    ``content``)."""
    entries = TimelineEntry.objects.filter(incident=incident).order_by("sequence")
    return {
        "incident": incident.reference,
        "exported_at": timezone.now().isoformat(),
        "algorithm": "sha256 over canonical JSON (sorted keys, no spaces, UTF-8)",
        "verification": asdict(verify_timeline(incident)),
        "entries": [
            {"content": entry.canonical_content(), "hash": entry.hash}
            for entry in entries
        ],
    }
