"""Text that people are shown: titles without the characters that reorder it."""

from __future__ import annotations

import re

# Bidirectional embeddings, overrides and isolates (U+202A-U+202E,
# U+2066-U+2069): a right-to-left override in a title makes a board line or an
# e-mail subject read differently from what was written ("Trojan Source").
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def neutralise_bidi(text: str) -> str:
    """``text`` without bidirectional embedding, override and isolate
    characters (the letters themselves, of any script, are kept)."""
    return BIDI_CONTROLS.sub("", text or "")
