"""Text that people are shown: titles without the characters that reorder it.

``neutralise_bidi`` cleans a text; ``TitleField`` keeps a model's title clean
on every write."""

from __future__ import annotations

import re

from django.db import models

# Bidirectional embeddings, overrides and isolates (U+202A-U+202E,
# U+2066-U+2069): a right-to-left override in a title makes a board line or an
# e-mail subject read differently from what was written ("Trojan Source").
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def neutralise_bidi(text: str) -> str:
    """``text`` without bidirectional embedding, override and isolate
    characters (the letters themselves, of any script, are kept)."""
    return BIDI_CONTROLS.sub("", text or "")


# C0 controls (tab and line breaks included), DEL and C1 controls: a title is
# one line of text.
CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f]")


def plain_title(text: str) -> str:
    """``text`` as a one-line title: bidirectional controls removed, other
    control characters (line breaks, tabs, C1) turned into spaces, no space
    at either end."""
    return CONTROL_CHARACTERS.sub(" ", neutralise_bidi(text)).strip()


class TitleField(models.CharField):
    """A title people are shown (an incident's, an action's, a playbook step's,
    a review question's): stored as ``plain_title`` makes it (no bidirectional
    or other control characters) whatever path writes it (services, the admin, imports, bulk writes and ``update()``), so
    the board, pages, e-mail, exports and the API never show a reordered one."""

    def to_python(self, value):
        value = super().to_python(value)
        return plain_title(value) if isinstance(value, str) else value

    def pre_save(self, model_instance, add):
        value = getattr(model_instance, self.attname)
        if isinstance(value, str):
            value = plain_title(value)
            setattr(model_instance, self.attname, value)
        return value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return plain_title(value) if isinstance(value, str) else value
