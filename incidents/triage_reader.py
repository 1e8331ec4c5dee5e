"""Reading a report for impact: who is affected, how many, which business
function, whether data left, whether a regulator or people's safety is involved.

``read_impact(report)`` returns an ``Impact``: the signals found, each with the
words of the report that showed it, so a responder can read why ("all EU
customers", "cannot pay"). The triage model uses the signals as features next to
the words (``Impact.tokens``), the framework floors use the strong ones
(``Impact.floor_reasons``), and the rationale names them.

Host names are read as one neutral word first (``api.payments.internal`` says
nothing about scope: "internal" there is a DNS zone, not an audience).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# A dotted name with at least one dot between word characters: host names,
# domains ("www.example.com", "db-replica-02.internal").
HOST_NAME = re.compile(r"\b[a-z0-9][a-z0-9_-]*(?:\.[a-z0-9_-]+)+\b", re.IGNORECASE)


def _any(*phrases: str) -> re.Pattern:
    return re.compile(r"(?<![a-z0-9])(?:" + "|".join(phrases) + r")", re.IGNORECASE)


# name -> (pattern, plain words for the rationale). Patterns are read over the
# lower-cased text with host names replaced.
SIGNALS: dict[str, tuple[re.Pattern, str]] = {
    "scope_all": (
        _any(
            r"all\b",
            r"every",
            r"nobody",
            r"no one",
            r"no customer",
            r"none of",
            r"100 ?%",
            r"whole",
            r"entire",
            r"completely",
            r"total\b",
            r"any (?:customer|user|patient)",
        ),
        "everyone affected",
    ),
    "scope_some": (
        _any(
            r"some\b",
            r"part of",
            r"a share",
            r"share of",
            r"\d{1,2} ?%",
            r"a few",
            r"intermittent",
            r"sometimes",
            r"a third",
            r"half",
            r"one in",
        ),
        "part of the users affected",
    ),
    "scope_one": (
        _any(
            r"one customer",
            r"a single",
            r"single\b",
            r"one (?:user|store|laptop|pc|host|team|employee|colleague|letter)",
            r"one of (?:three|two|our)",
            r"only (?:their|his|her|one)",
        ),
        "a single person or place",
    ),
    "internal": (
        _any(
            r"internal",
            r"staff",
            r"employees?",
            r"office",
            r"intranet",
            r"staging",
            r"dev\b",
            r"test\b",
            r"developers?",
            r"engineering",
            r"colleagues?",
            r"ci\b",
            r"builds?\b",
            r"back[- ]office",
            r"not customer",
            r"no customer impact",
            r"customers? (?:are )?not affected",
            r"production (?:was )?(?:never |not )?(?:un)?affected",
        ),
        "internal only",
    ),
    "customers": (
        _any(
            r"customers?\b",
            r"users?\b",
            r"patients?",
            r"guests?",
            r"subscribers?",
            r"players?",
            r"visitors?",
            r"clients?",
            r"shoppers?",
            r"members",
            r"public",
            r"stores\b",
            r"hospitals?",
        ),
        "customers",
    ),
    "down": (
        _any(
            r"down\b",
            r"unavailable",
            r"unreachable",
            r"outage",
            r"cannot",
            r"can ?not",
            r"can't",
            r"cant\b",
            r"not possible",
            r"impossible",
            r"unable",
            r"offline",
            r"not working",
            r"no (?:order|parcel|payment)s? ",
            r"blank page",
            r"white page",
            r"5\d\d\b",
            r"5xx",
            r"stopped",
            r"locked out",
            r"refuses",
            r"fails? for (?:all|every)",
            r"all (?:orders|payments|logins|requests) fail",
        ),
        "not working",
    ),
    "degraded": (
        _any(
            r"slow",
            r"latency",
            r"timeouts?",
            r"timing out",
            r"delay",
            r"late\b",
            r"lag\b",
            r"backlog",
            r"degraded",
            r"reduced",
            r"partial",
            r"at risk",
            r"sla\b",
            r"p9\d",
            r"error rate",
            r"errors?\b",
            r"stale",
        ),
        "degraded or late",
    ),
    "cosmetic": (
        _any(
            r"typo",
            r"cosmetic",
            r"logo",
            r"misaligned",
            r"colou?rs?\b",
            r"icon",
            r"tooltip",
            r"font",
            r"wording",
            r"translat",
            r"banner",
            r"placeholder",
            r"crooked",
            r"spelling",
            r"favicon",
            r"overlap",
            r"decimals?",
            r"shows? wrong",
            r"wrong (?:date|time ?zone|format|image|photo|address)",
        ),
        "cosmetic",
    ),
    "docs": (
        _any(
            r"documentation",
            r"docs\b",
            r"outdated",
            r"out of date",
            r"not (?:yet )?updated",
            r"old version",
            r"no (?:named )?owner",
            r"missing owner",
            r"procedure",
            r"policy (?:document|page|pdf)",
            r"handbook",
            r"runbook",
            r"diagram",
            r"template",
            r"checklist",
            r"record of processing",
            r"review date",
            r"not (?:yet )?signed",
            r"certificate copy",
            r"still (?:shows|says|lists|mentions|references|refers|uses|has)",
        ),
        "a documentation gap",
    ),
    "personal_data": (
        _any(
            r"personal data",
            r"customer (?:data|records|list|database)",
            r"records\b",
            r"names\b",
            r"addresses\b",
            r"e-?mail addresses",
            r"phone numbers",
            r"dates? of birth",
            r"birth dates",
            r"health\b",
            r"diagnos",
            r"lab results",
            r"test results",
            r"payslips",
            r"salar",
            r"bank details",
            r"id (?:card|document)",
            r"passport",
            r"card numbers",
            r"pans?\b",
            r"cardholder",
            r"card data",
            r"pii",
            r"contacts\b",
            r"client data",
            r"profiles\b",
            r"sick-leave",
        ),
        "personal data",
    ),
    "disclosure": (
        _any(
            r"exposed",
            r"publicly",
            r"public (?:link|bucket|share|file)",
            r"readable by anyone",
            r"leak",
            r"sent to (?:the )?wrong",
            r"(?:e-?mailed|sent|went|forwarded) to (?:the )?(?:wrong|whole|all|an? outside)",
            r"wrong (?:partner|agency|company|recipients?|customers?|patients?)",
            r"misdirected",
            r"visible (?:for|to)",
            r"(?:see|sees|open|view|viewed|shows?|showing) (?:the )?(?:\w+ )?(?:of )?(?:other|another)",
            r"downloaded",
            r"downloads from",
            r"exfiltrat",
            r"dump",
            r"stolen",
            r"\blost\b",
            r"copied",
            r"took (?:the|a|all|our|customer)",
            r"taken",
            r"unencrypted",
            r"without (?:auth|login|authentication)",
            r"sold on",
            r"skimm",
            r"posts? card",
        ),
        "data disclosed",
    ),
    "regulator": (
        _any(
            r"regulat",
            r"authorit",
            r"inspectorate",
            r"supervisor",
            r"ombudsman",
            r"fca\b",
            r"sec\b",
            r"8-k",
            r"materiality",
            r"material (?:incident|impact|for)",
            r"cpsc",
            r"dpa\b",
            r"csirt",
            r"central bank",
            r"medicines agency",
            r"self-report",
            r"notify (?:the|them|us)",
            r"notification (?:to|form|deadline)",
            r"penalt",
            r"investigation",
            r"sanction",
            r"recall",
            r"fda\b",
            r"customs",
            r"statutory",
            r"filing",
            r"filed",
            r"(?:legal|statutory|submission|filing) deadline",
        ),
        "a regulator or legal duty",
    ),
    "missed": (
        _any(
            r"missed",
            r"not (?:submitted|filed|reported|forwarded|sent|send)",
            r"nobody sen",
            r"overdue",
            r"late\b",
            r"after the deadline",
            r"deadline (?:was|passed|expires|today|tonight)",
            r"rejected",
            r"wrong (?:numbers|figures|data)",
            r"were wrong",
            r"all wrong",
            r"never filed",
            r"forgot",
            r"forget",
            r"expires? in",
            r"hours left",
            r"must (?:notify|report|self-report|be informed)",
            r"opened (?:a|an) (?:case|investigation)",
            r"formal investigation",
            r"asked for (?:proof|an explanation)",
            r"called us",
        ),
        "a legal duty missed or due",
    ),
    "safety": (
        _any(
            r"injur",
            r"burn",
            r"fire\b",
            r"hurt",
            r"choking",
            r"swallow",
            r"contaminat",
            r"allergen",
            r"listeria",
            r"glass (?:fragments|pieces)",
            r"overheat",
            r"harm",
            r"dosage",
            r"patient safety",
            r"bacteria",
            r"pseudomonas",
            r"safety (?:hazard|risk)",
            r"catching fire",
            r"melting",
        ),
        "people's safety",
    ),
    "near_miss": (
        _any(
            r"blocked",
            r"caught",
            r"before (?:any|it|release|production|shipping|shipment|publication|deploy|submission|the (?:deadline|shift|real))",
            r"prevented",
            r"in time",
            r"quarantined",
            r"denied",
            r"no impact",
            r"not affected",
            r"near miss",
            r"halted",
            r"stopped it",
            r"false alarm",
            r"false positive",
            r"did not (?:click|enter|answer)",
            r"nobody clicked",
            r"no clicks",
            r"no sign of",
            r"no evidence",
            r"nothing was deployed",
            r"never affected",
            r"auto(?:matically)?[- ]?rolled back",
        ),
        "caught before harm",
    ),
    "functions": (
        _any(
            r"pay(?:ment|ments|s)?\b",
            r"checkout",
            r"log ?in",
            r"sign[- ]in",
            r"order(?:s|ing)?\b",
            r"book(?:ing)?",
            r"patient care",
            r"payroll",
            r"salar(?:y|ies)",
            r"medicine",
            r"medication",
        ),
        "a core business function",
    ),
}

# Which signals name a floor of the framework when the text shows them together.
NEGATED_SIGNALS = ("no data", "no personal data", "no customer data", "no real data")


@dataclass(frozen=True)
class Impact:
    """The signals found in a report, each with the words that showed it."""

    found: dict[str, str] = field(default_factory=dict)

    def has(self, *names: str) -> bool:
        return all(name in self.found for name in names)

    @property
    def tokens(self) -> str:
        """Space-separated feature tokens (``impact:scope_all``), plus pairs
        that mean more together than apart (``impact:customers+down``)."""
        names = sorted(self.found)
        tokens = [f"impact:{name}" for name in names]
        for first, second in PAIRS:
            if first in self.found and second in self.found:
                tokens.append(f"impact:{first}+{second}")
        return " ".join(tokens) or "impact:none"

    def words(self, name: str) -> str:
        return self.found.get(name, "")


PAIRS = (
    ("customers", "down"),
    ("scope_all", "down"),
    ("scope_all", "customers"),
    ("functions", "down"),
    ("personal_data", "disclosure"),
    ("regulator", "missed"),
    ("customers", "degraded"),
    ("scope_some", "degraded"),
    ("internal", "down"),
    ("near_miss", "personal_data"),
    ("cosmetic", "customers"),
)


def normalise(text: str) -> str:
    """Lower-cased, host names replaced by a neutral word."""
    return HOST_NAME.sub(" hostname ", text.lower())


def read_impact(text: str) -> Impact:
    """The signals in ``text`` (title, description and impact together)."""
    plain = normalise(text)
    found = {}
    for name, (pattern, _label) in SIGNALS.items():
        match = pattern.search(plain)
        if match:
            found[name] = _phrase(plain, match)
    if "personal_data" in found and any(p in plain for p in NEGATED_SIGNALS):
        del found["personal_data"]
    return Impact(found)


def _phrase(text: str, match: re.Match) -> str:
    """The whole matched word with a word before and two after, for a
    rationale ("all eu customers")."""
    start = text.rfind(" ", 0, match.start()) + 1
    end = text.find(" ", match.end())
    end = len(text) if end < 0 else end
    before = text[:start].split()[-1:]
    after = text[end:].split()[:2]
    return " ".join([*before, text[start:end], *after]).strip(" .,;:")


# The signals that speak for each level, most telling first: the rationale names
# those found in the report for the level suggested.
LEVEL_SIGNALS = {
    "SEV-1": ("safety", "personal_data", "disclosure", "missed", "scope_all", "down"),
    "SEV-2": ("degraded", "scope_some", "functions", "missed", "customers"),
    "SEV-3": ("near_miss", "internal", "scope_one"),
    "SEV-4": ("cosmetic", "docs"),
}


def quoted(impact: Impact, names, limit: int = 3) -> list[str]:
    """The report's own words for up to ``limit`` of ``names`` found, quoted."""
    words = []
    for name in names:
        phrase = impact.words(name)
        if phrase and not any(_overlap(phrase, w) for w in words):
            words.append(f"“{phrase}”")
        if len(words) == limit:
            break
    return words


def _overlap(phrase: str, shown: str) -> bool:
    """Whether ``phrase`` mostly repeats the words of ``shown``."""
    mine = set(phrase.split())
    return len(mine & set(shown.strip("“”").split())) * 2 > len(mine)


def level_reason(code: str, impact: Impact) -> str:
    """``SEV-3: “office staff”, “blocked”`` — the report's words that point at
    the level, or the level alone when none does."""
    words = quoted(impact, LEVEL_SIGNALS.get(code, ()))
    return f"{code} from {', '.join(words)}" if words else code
