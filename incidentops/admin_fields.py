"""Form fields and read-only displays for the admin's list and JSON settings.

Settings that are lists or small maps are edited as what they are (a comma-
separated list of numbers, one ``key = value`` per line, a set of checkboxes),
not as JSON typed into a one-line text area; JSON kept as data (a triage
suggestion, a webhook payload, an alert's labels) is shown read-only, indented.
The model fields stay ``JSONField``: only what people see and type changes.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from django import forms
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.html import format_html, format_html_join

EMPTY = "—"


def pretty_json(value) -> str:
    """``value`` as indented JSON in a ``<pre>`` block (HTML, escaped), or a
    dash when it is empty."""
    if value in (None, "", [], {}):
        return EMPTY
    text = json.dumps(value, indent=2, ensure_ascii=False, cls=DjangoJSONEncoder)
    return format_html('<pre class="admin-json">{}</pre>', text)


def key_value_lines(mapping) -> str:
    """A ``{key: value}`` map as ``key = value`` lines in a ``<pre>`` block."""
    if not mapping:
        return EMPTY
    if not isinstance(mapping, dict):
        return pretty_json(mapping)
    return format_html(
        '<pre class="admin-json">{}</pre>',
        "\n".join(f"{key} = {value}" for key, value in mapping.items()),
    )


def plain_list(values) -> str:
    """A list of words as ``a, b, c``."""
    if not values:
        return EMPTY
    if not isinstance(values, list):
        return pretty_json(values)
    return ", ".join(str(value) for value in values)


def link_list(urls) -> str:
    """A list of web links, each on its own line; only http(s) links are
    clickable."""
    if not urls:
        return EMPTY
    if not isinstance(urls, list):
        return pretty_json(urls)
    return format_html_join(
        "",
        "<div>{}</div>",
        (
            (
                format_html('<a href="{}" rel="noopener noreferrer">{}</a>', u, u)
                if str(u).startswith(("http://", "https://"))
                else str(u),
            )
            for u in urls
        ),
    )


def shown(name: str, render: Callable = pretty_json, *, description: str | None = None):
    """A read-only admin field that shows the model field ``name`` through
    ``render`` (``pretty_json`` by default). Use it in ``fields`` and
    ``readonly_fields`` in place of the name."""

    def display(obj):
        return render(getattr(obj, name, None))

    display.short_description = description or name.replace("_", " ")
    display.__name__ = f"{name}_shown"
    return display


def _drop_json_options(kwargs: dict) -> None:
    # A model JSONField hands its form field an encoder and a decoder.
    kwargs.pop("encoder", None)
    kwargs.pop("decoder", None)


class KeyValueField(forms.Field):
    """A ``{key: value}`` map of strings, typed one ``key = value`` per line.

    Blank lines are skipped; a line without ``=``, an empty key, or a key given
    twice is refused, naming the line. A pasted JSON object is read as such
    (anything else in JSON is refused). ``lower_keys`` folds keys to lower case."""

    widget = forms.Textarea(attrs={"rows": 4, "cols": 40})

    def __init__(self, *, lower_keys: bool = False, **kwargs):
        self.lower_keys = lower_keys
        _drop_json_options(kwargs)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, dict):
            return "\n".join(f"{key} = {val}" for key, val in value.items())
        return value

    def to_python(self, value) -> dict:
        if isinstance(value, dict):
            return value
        if (value or "").lstrip().startswith(("{", "[")):
            # Pasted JSON is accepted too, when it is an object.
            try:
                parsed = json.loads(value)
            except ValueError:
                parsed = None
            if not isinstance(parsed, dict):
                raise forms.ValidationError(
                    "Write one “name = value” per line (or a JSON object)."
                )
            return parsed
        result: dict[str, str] = {}
        for number, line in enumerate((value or "").splitlines(), start=1):
            if not line.strip():
                continue
            key, sep, val = line.partition("=")
            key, val = key.strip(), val.strip()
            if not sep or not key:
                raise forms.ValidationError(
                    f"Line {number}: write “name = value”, one per line."
                )
            if self.lower_keys:
                key = key.lower()
            if key in result:
                raise forms.ValidationError(f"Line {number}: “{key}” is given twice.")
            result[key] = val
        return result

    def has_changed(self, initial, data) -> bool:
        return (initial or {}) != self.to_python(data)


class IntegerListField(forms.Field):
    """A list of whole numbers, typed comma-separated (``2, 0``; a JSON list
    such as ``[2, 0]`` reads the same)."""

    widget = forms.TextInput(attrs={"size": 20})

    def __init__(self, *, min_value: int | None = None, **kwargs):
        self.min_value = min_value
        _drop_json_options(kwargs)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, list):
            return ", ".join(str(item) for item in value)
        return value

    def to_python(self, value) -> list[int]:
        if isinstance(value, list):
            return value
        numbers = []
        text = (value or "").strip().removeprefix("[").removesuffix("]")
        for part in text.replace(";", ",").split(","):
            if not part.strip():
                continue
            try:
                number = int(part.strip())
            except ValueError:
                raise forms.ValidationError(
                    f"“{part.strip()}” is not a whole number; separate numbers "
                    "with commas."
                ) from None
            if self.min_value is not None and number < self.min_value:
                raise forms.ValidationError(
                    f"{number} is below the smallest allowed, {self.min_value}."
                )
            numbers.append(number)
        return numbers

    def has_changed(self, initial, data) -> bool:
        return (initial or []) != self.to_python(data)


class ChoiceListField(forms.MultipleChoiceField):
    """A list of known words, ticked as checkboxes (stored as a JSON list in
    the order of ``choices``)."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, value) -> list[str]:
        chosen = set(super().clean(value))
        return [key for key, _ in self.choices if key in chosen]


class PrettyJSONField(forms.JSONField):
    """A JSON setting with no simpler shape, shown indented in a text area
    sized to it (not one long line)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.Textarea(attrs={"cols": 60}))
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        text = json.dumps(value, indent=2, ensure_ascii=False, cls=self.encoder)
        self.widget.attrs["rows"] = min(16, max(3, text.count("\n") + 2))
        return text
