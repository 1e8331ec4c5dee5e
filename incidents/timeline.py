"""Reading the timeline as evidence: verify its hash chain, export it.

Writing is ``incidents.services.timeline_record`` alone.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django.utils import timezone

from incidents.models import Incident, TimelineEntry, TimelineHead

HEAD_ALGORITHM = (
    "HMAC-SHA256 with the deployment's key (Django salted_hmac, SECRET_KEY, salt "
    "'incidentops.timeline-head') over '<incident id>|<count>|<last_hash>', hex; "
    "the deployment verifies it (verify_timeline)"
)


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
    """Recompute every entry's hash, check each links to the one before, and
    that the chain ends where its signed head (``TimelineHead``) says: the
    deletion of any entry, the newest included, is detected."""
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
    problem = _head_problem(incident, count, prev_hash)
    if problem:
        first_broken, reason = problem
        return ChainVerification(
            ok=False,
            entries=count,
            first_broken=first_broken,
            reason=reason,
            last_hash=prev_hash,
        )
    return ChainVerification(ok=True, entries=count, last_hash=prev_hash)


def _head_problem(incident: Incident, count: int, last_hash: str):
    """Compare an intact-looking chain with its signed head: ``(first broken
    sequence, reason)``, or None when they agree. Catches what the links cannot:
    the newest entries deleted (a shorter chain still links)."""
    head = TimelineHead.objects.filter(incident_id=incident.pk).first()
    if head is None:
        if count == 0:
            return None
        return 1, "The chain has no signed head: it was not written by IncidentOps."
    if not head.signature_holds():
        return head.count, "The chain's head does not match its signature."
    if head.count > count:
        return (
            count + 1,
            f"The signed head says {head.count} entries but only {count} remain: "
            f"entry #{count + 1} and later were deleted.",
        )
    if head.count < count:
        return head.count + 1, (
            f"Entries after #{head.count} were added outside IncidentOps."
        )
    if head.last_hash != last_hash:
        return count, f"Entry #{count} is not the one the signed head names."
    return None


def signed_head(incident: Incident) -> dict | None:
    """The incident's chain head for the evidence document: ``{"count",
    "last_hash", "signature", "signed_at"}`` (None for an empty timeline)."""
    head = TimelineHead.objects.filter(incident_id=incident.pk).first()
    if head is None:
        return None
    return {
        "count": head.count,
        "last_hash": head.last_hash,
        "signature": head.signature,
        "signed_at": head.updated_at.isoformat(),
    }


def export_timeline(incident: Incident) -> dict:
    """The incident's timeline as a JSON-able evidence document: each entry with
    everything its hash covers, plus the verification result, so a third party
    can recompute the chain (sha256 over the sorted, compact JSON of
    ``content``), and the chain's signed head (count and newest hash, signed with
    the deployment's key), so a truncated export or chain shows."""
    entries = TimelineEntry.objects.filter(incident=incident).order_by("sequence")
    return {
        "incident": incident.reference,
        "exported_at": timezone.now().isoformat(),
        "algorithm": "sha256 over canonical JSON (sorted keys, no spaces, UTF-8)",
        "head": signed_head(incident),
        "head_algorithm": HEAD_ALGORITHM,
        "verification": asdict(verify_timeline(incident)),
        "entries": [
            {"content": entry.canonical_content(), "hash": entry.hash}
            for entry in entries
        ],
    }
