"""The API's JSON parser, strict about what no client needs and what would
otherwise reach the database as an error (a 500): bodies over a cap (413),
nesting deeper than a cap, NUL characters and lone surrogates in any key or
string (400). Every refusal is DRF's JSON error body; nothing is stored."""

from __future__ import annotations

import json
import re

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import BaseParser

DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024 + 512 * 1024  # Django's form-data cap
MAX_JSON_DEPTH = 32
# In UTF-8 JSON text a NUL can only be written as an escape (a raw control
# character does not parse), and a lone surrogate as an escape or as the three
# bytes UTF-8 would give it (ED A0..BF xx: Python's JSON reader decodes bytes
# with "surrogatepass"). A NUL byte means the body is UTF-16 or UTF-32, which
# the reader also accepts and this scan cannot read: the walk decides then.
# A body with none of these needs no walk.
_SUSPECT = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])|\x00|\xed[\xa0-\xbf]")


def may_hold_bad_text(raw: bytes) -> bool:
    """Whether JSON text ``raw`` may decode to a NUL or a lone surrogate."""
    return _SUSPECT.search(raw) is not None


class BodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"
    default_detail = "The body is too large."


def bad_text(value: str) -> str:
    """Why a string cannot be stored ("" when it can): a NUL character, or a
    lone UTF-16 surrogate (not encodable as UTF-8)."""
    if "\x00" in value:
        return "contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate (not valid Unicode text)"
    return ""


def check_json(
    value, *, max_depth: int = MAX_JSON_DEPTH, check_text: bool = True
) -> str:
    """Why decoded JSON is refused ("" when it is fine): nested deeper than
    ``max_depth`` objects and arrays, or a key or string that ``bad_text``
    refuses (``check_text`` False: depth only). Iterative, so any depth is
    safe to check."""
    stack = [(value, 1, "")]
    while stack:
        item, depth, where = stack.pop()
        if isinstance(item, str):
            problem = bad_text(item) if check_text else ""
            if problem:
                return f"{where or 'a value'} {problem}"
            continue
        if isinstance(item, dict):
            children = []
            for key, child in item.items():
                problem = bad_text(key) if check_text else ""
                if problem:
                    return f"a key {problem}"
                children.append((child, depth + 1, f"{key!r}"))
        elif isinstance(item, list):
            children = [(child, depth + 1, where) for child in item]
        else:
            continue
        if depth > max_depth:
            return f"the JSON nests deeper than {max_depth} levels"
        stack.extend(children)
    return ""


def loads(raw: bytes):
    """``json.loads`` that never raises RecursionError (a ValueError instead)
    and refuses NaN and Infinity, as DRF's strict JSON does."""

    def no_constants(name):
        raise ValueError(f"{name} is not valid JSON")

    try:
        return json.loads(raw, parse_constant=no_constants)
    except RecursionError:
        raise ValueError("the JSON nests too deeply") from None


class StrictJSONParser(BaseParser):
    """``application/json`` bodies of at most ``API_MAX_BODY_BYTES`` (413),
    refused with 400 when not UTF-8 JSON or when ``check_json`` objects.

    Not a subclass of DRF's ``JSONParser`` on purpose: DRF buffers the body of
    those through ``request.body`` first, where Django's own cap answers an
    HTML 400; this one reads the stream itself, at most the cap + 1 bytes."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        limit = int(getattr(settings, "API_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES))
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise BodyTooLarge(f"The body is over {limit} bytes (API_MAX_BODY_BYTES).")
        try:
            data = loads(raw)
        except (UnicodeDecodeError, ValueError) as error:
            raise ParseError(f"JSON parse error - {error}") from None
        problem = check_json(data, check_text=may_hold_bad_text(raw))
        if problem:
            raise ParseError(f"Refused: {problem}.")
        return data
