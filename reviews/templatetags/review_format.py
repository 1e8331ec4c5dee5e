"""How review pages, the printable page and the Markdown export word their
numbers and the five whys."""

from datetime import timedelta

from django import template

register = template.Library()

MINUTE, HOUR, DAY = 60, 3600, 86400

# Words that open an ordinary sentence: lowercased after "Because". Anything
# else (a name, a product, an acronym) keeps its case.
SENTENCE_OPENERS = frozenset(
    "a an the it its we our they their there this that these those nobody no "
    "one someone nothing all some each every".split()
)


@register.filter
def duration(value: timedelta | None) -> str:
    """A span as people say it: "45 s", "10 min", "3 h 20 min", "2 d 4 h".

    Two units at most, the smaller one left out when it is zero; rounded down.
    ``None`` (not reached yet) gives an empty string, for ``|default``.
    """
    if value is None:
        return ""
    seconds = int(value.total_seconds())
    if seconds < 0:
        return "–" + duration(-value)
    if seconds < MINUTE:
        return f"{seconds} s"
    if seconds < HOUR:
        return f"{seconds // MINUTE} min"
    if seconds < DAY:
        hours, minutes = divmod(seconds // MINUTE, 60)
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(seconds // HOUR, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


@register.filter
def as_question(text: str) -> str:
    """The why as a question: "Why did the pool run out?" (adds "Why" and the
    question mark where the writer left them out)."""
    text = (text or "").strip()
    if not text:
        return ""
    if not text.lower().startswith("why"):
        text = f"Why {text[0].lower() + text[1:] if _opener(text) else text}"
    return text if text.endswith("?") else f"{text.rstrip('.')}?"


@register.filter
def as_because(text: str) -> str:
    """The answer as "Because …", keeping names' case ("Because Kafka …",
    "because a change …" becomes "Because a change …")."""
    text = (text or "").strip()
    if not text:
        return ""
    if text.lower().startswith("because"):
        return "B" + text[1:]
    return f"Because {text[0].lower() + text[1:] if _opener(text) else text}"


def _opener(text: str) -> bool:
    first = text.split(maxsplit=1)[0]
    return first.lower() in SENTENCE_OPENERS and first[1:] == first[1:].lower()
