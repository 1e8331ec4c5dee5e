"""Reading a delivery's body safely: capped before anything parses it, and
refused when nested deeper than any sender needs.

``INGEST_MAX_BODY_BYTES`` (setting, default 10 MiB) is checked against
Content-Length first, then enforced while reading: at most the cap + 1 bytes are
read, also from a chunked upload, which has no Content-Length (the server
de-chunks it and ends the WSGI input where the body ends). Django's own
``DATA_UPLOAD_MAX_MEMORY_SIZE`` never sees this body, so the cap is ours alone.
"""

from __future__ import annotations

import json

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException

from incidentops.parsers import check_json, may_hold_bad_text
from incidents.ingestion.batch import MalformedAlert

DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024
MAX_JSON_DEPTH = 64  # Alertmanager needs 4; Events v2 custom details a few more


class BodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"
    default_detail = "The body is too large."


def max_body_bytes() -> int:
    return int(getattr(settings, "INGEST_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES))


def _describe(limit: int) -> str:
    if limit % (1024 * 1024) == 0:
        return f"{limit // (1024 * 1024)} MiB"
    return f"{limit} bytes"


def _read(request, limit: int) -> bytes:
    if request.META.get("CONTENT_LENGTH"):
        return request.read(limit)
    stream = request.META.get("wsgi.input")
    if stream is None:
        return b""
    chunks: list[bytes] = []
    remaining = limit
    while remaining > 0:
        chunk = stream.read(min(remaining, 65536))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_capped_body(request) -> bytes:
    """The body of a Django ``HttpRequest``, at most ``INGEST_MAX_BODY_BYTES``.

    Raises ``BodyTooLarge`` (413) when Content-Length or the bytes read pass the
    cap. The result is kept on the request, so a second call reads nothing.
    """
    cached = getattr(request, "_ingest_body", None)
    if cached is not None:
        return cached
    limit = max_body_bytes()
    too_large = f"The body is over {_describe(limit)} (INGEST_MAX_BODY_BYTES)."
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise BodyTooLarge(too_large)
    body = _read(request, limit + 1)
    if len(body) > limit:
        raise BodyTooLarge(too_large)
    request._ingest_body = body
    return body


def _depth_exceeds(value, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def decode_json(body: bytes):
    """The body as JSON. Raises ``MalformedAlert`` when it is not UTF-8 JSON,
    nests objects and arrays deeper than ``MAX_JSON_DEPTH``, or has a NUL
    character or lone surrogate in a key or string."""
    try:
        payload = json.loads(body)
    except RecursionError:
        payload = None
        deep = True
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise MalformedAlert(f"The body is not JSON: {error}") from None
    else:
        deep = _depth_exceeds(payload, MAX_JSON_DEPTH)
    if deep:
        raise MalformedAlert(
            f"The body nests deeper than {MAX_JSON_DEPTH} levels of objects and arrays."
        )
    problem = (
        check_json(payload, max_depth=MAX_JSON_DEPTH) if may_hold_bad_text(body) else ""
    )
    if problem:
        # NUL characters and lone surrogates cannot be stored (PostgreSQL).
        raise MalformedAlert(f"The body is refused: {problem}.")
    return payload
