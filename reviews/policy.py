"""Review policy as it applies: business-day arithmetic in the organisation's time
zone, and the effective policy of a severity (the admin's ``ReviewPolicy``, or the
severity framework's defaults when none is configured)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from incidentops import groups
from incidentops.timezones import local_instant, org_zone
from reviews.models import ReviewPolicy

# Due at the end of the due day, reminders in the morning: local times.
END_OF_DAY = time(23, 59, 59)
START_OF_DAY = time(9, 0)


def is_business_day(day: date) -> bool:
    return day.weekday() < 5


def add_business_days(day: date, count: int) -> date:
    """The date ``count`` business days after ``day`` (Monday to Friday).

    A start on a weekend counts from the next Monday (Saturday + 1 is Monday).
    """
    current = day
    remaining = count
    while remaining > 0:
        current += timedelta(days=1)
        if is_business_day(current):
            remaining -= 1
    return current


def subtract_business_days(day: date, count: int) -> date:
    """The business day ``count`` business days before ``day`` (0: ``day``, or the
    Friday before when ``day`` is a weekend)."""
    current = day
    while not is_business_day(current):
        current -= timedelta(days=1)
    remaining = count
    while remaining > 0:
        current -= timedelta(days=1)
        if is_business_day(current):
            remaining -= 1
    return current


def due_after(moment: datetime, business_days: int) -> datetime:
    """End of the business day ``business_days`` business days after the local
    date of ``moment``."""
    local_day = moment.astimezone(org_zone()).date()
    return local_instant(add_business_days(local_day, business_days), END_OF_DAY)


def reminder_instants(due_at: datetime, offsets: list[int]) -> list[datetime]:
    """When to remind: the morning of the business day each offset names,
    earliest first, de-duplicated."""
    due_day = due_at.astimezone(org_zone()).date()
    instants = {
        local_instant(subtract_business_days(due_day, int(offset)), START_OF_DAY)
        for offset in offsets
    }
    return sorted(instant for instant in instants if instant < due_at)


def escalation_instant(due_at: datetime, business_days: int) -> datetime:
    """When an escalation step fires: the end of the business day that many
    business days after the due date."""
    return due_after(due_at, business_days)


# --- the effective policy -------------------------------------------------------


@dataclass(frozen=True)
class Escalation:
    after_business_days: int
    group: str


@dataclass(frozen=True)
class EffectivePolicy:
    """A severity's review policy, whether configured or defaulted."""

    severity_code: str
    mode: str
    due_business_days: int
    approvals: list[dict] = field(default_factory=list)  # [{"group", "count"}]
    reminder_business_days: list[int] = field(default_factory=list)
    escalations: list[Escalation] = field(default_factory=list)
    batch_period: str = ReviewPolicy.BatchPeriod.WEEK
    batch_owner_group: str | None = None


Mode = ReviewPolicy.Mode

# The severity framework (DESIGN.md): SEV-1/2 reviewed individually, SEV-3
# "logged for review" and SEV-4 "batch review" go to the batch queue.
DEFAULT_POLICIES: dict[str, EffectivePolicy] = {
    "SEV-1": EffectivePolicy(
        severity_code="SEV-1",
        mode=Mode.INDIVIDUAL,
        due_business_days=5,
        approvals=[
            {"group": groups.EXECUTIVES, "count": 1},
            {"group": groups.REVIEWERS, "count": 1},
        ],
        reminder_business_days=[2, 0],
        escalations=[
            Escalation(1, groups.INCIDENT_MANAGERS),
            Escalation(3, groups.EXECUTIVES),
        ],
    ),
    "SEV-2": EffectivePolicy(
        severity_code="SEV-2",
        mode=Mode.INDIVIDUAL,
        due_business_days=10,
        approvals=[{"group": groups.REVIEWERS, "count": 1}],
        reminder_business_days=[3, 0],
        escalations=[
            Escalation(2, groups.INCIDENT_MANAGERS),
            Escalation(5, groups.EXECUTIVES),
        ],
    ),
    "SEV-3": EffectivePolicy(
        severity_code="SEV-3",
        mode=Mode.BATCH,
        due_business_days=5,
        reminder_business_days=[1],
        escalations=[Escalation(2, groups.EXECUTIVES)],
        batch_period=ReviewPolicy.BatchPeriod.WEEK,
        batch_owner_group=groups.INCIDENT_MANAGERS,
    ),
    "SEV-4": EffectivePolicy(
        severity_code="SEV-4",
        mode=Mode.BATCH,
        due_business_days=10,
        reminder_business_days=[2],
        escalations=[Escalation(3, groups.INCIDENT_MANAGERS)],
        batch_period=ReviewPolicy.BatchPeriod.MONTH,
        batch_owner_group=groups.REVIEWERS,
    ),
}
# An incident resolved without a known severity is treated as SEV-2: a review,
# not silence.
FALLBACK_SEVERITY = "SEV-2"


def effective_policy(severity_code: str | None) -> EffectivePolicy:
    """The configured policy of ``severity_code``, else the framework default."""
    code = severity_code or FALLBACK_SEVERITY
    policy = (
        ReviewPolicy.objects.filter(severity__code=code)
        .select_related("severity", "batch_owner_group")
        .first()
    )
    if policy is None:
        default = DEFAULT_POLICIES.get(code) or DEFAULT_POLICIES[FALLBACK_SEVERITY]
        return EffectivePolicy(
            **{**default.__dict__, "severity_code": code},
        )
    return EffectivePolicy(
        severity_code=code,
        mode=policy.mode,
        due_business_days=policy.due_business_days,
        approvals=[
            {"group": req.group.name, "count": req.count}
            for req in policy.approvals.select_related("group")
        ],
        reminder_business_days=[int(n) for n in policy.reminder_business_days or []],
        escalations=[
            Escalation(step.after_business_days, step.group.name)
            for step in policy.escalations.select_related("group")
        ],
        batch_period=policy.batch_period,
        batch_owner_group=(
            policy.batch_owner_group.name if policy.batch_owner_group else None
        ),
    )


def individual_policy(severity_code: str | None) -> EffectivePolicy:
    """The policy an individual review of ``severity_code`` follows: its own when
    the severity is reviewed individually; otherwise (a review promoted out of
    the batch queue) the fallback severity's approvals, due date, reminders and
    escalations."""
    policy = effective_policy(severity_code)
    if policy.mode == Mode.INDIVIDUAL:
        return policy
    fallback = effective_policy(FALLBACK_SEVERITY)
    return EffectivePolicy(
        **{**fallback.__dict__, "severity_code": severity_code or FALLBACK_SEVERITY}
    )


def batch_period_of(moment: datetime, period: str) -> tuple[str, date, date]:
    """The batch period containing ``moment`` (local date): its label, first and
    last day."""
    day = moment.astimezone(org_zone()).date()
    if period == ReviewPolicy.BatchPeriod.MONTH:
        start = day.replace(day=1)
        next_month = (start + timedelta(days=32)).replace(day=1)
        return f"{day:%Y-%m}", start, next_month - timedelta(days=1)
    year, week, _ = day.isocalendar()
    start = day - timedelta(days=day.weekday())
    return f"{year}-W{week:02d}", start, start + timedelta(days=6)
