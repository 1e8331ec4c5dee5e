"""The API's shared base: pagination and one error body for every failure.

Every error answers ``{"detail": "<reason>", "code": "<code>"}``; validation errors
add ``"errors": {field: [messages]}``. Its vocabulary is here once: the body's
serializer (``ErrorSerializer``) and the responses every app's views document
(``ERROR``, ``READ_ERRORS``, ``WRITE_ERRORS``).
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from incidentops.exceptions import Conflict, DomainError, NotPermitted


class ErrorSerializer(serializers.Serializer):
    """The one error body (``incidentops.api.exception_handler``)."""

    detail = serializers.CharField()
    code = serializers.CharField()
    errors = serializers.DictField(
        required=False,
        help_text="Validation errors per field.",
    )
    holder = serializers.CharField(
        required=False,
        allow_null=True,
        help_text="409 only: the username of whoever got there first.",
    )


ERROR = OpenApiResponse(ErrorSerializer, description="The reason, in the error body.")
READ_ERRORS = {401: ERROR, 404: ERROR}
WRITE_ERRORS = {400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR}


class Pagination(PageNumberPagination):
    """Page-number pagination. ``?page_size=`` must be a whole number of at least
    1 (400 otherwise, rather than quietly falling back to the default and carrying
    the bad value into the ``next`` link); over 1000 is capped at 1000."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 1000

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None:
            try:
                value = int(raw)
            except ValueError:
                value = 0
            if value < 1:
                raise exceptions.ValidationError(
                    {
                        self.page_size_query_param: [
                            f"{raw!r} is not a page size: use a whole number "
                            f"from 1 to {self.max_page_size}."
                        ]
                    }
                )
        return super().get_page_size(request)


def _first_message(errors) -> str:
    if isinstance(errors, dict):
        for key, value in errors.items():
            message = _first_message(value)
            return message if key == "non_field_errors" else f"{key}: {message}"
    if isinstance(errors, list) and errors:
        return _first_message(errors[0])
    return str(errors)


def exception_handler(exc, context):
    """DRF's handler plus domain errors, in one consistent body."""
    if isinstance(exc, DomainError):
        code = status.HTTP_403_FORBIDDEN if isinstance(exc, NotPermitted) else 400
        body = {"detail": exc.message, "code": exc.code}
        if isinstance(exc, Conflict):
            code = status.HTTP_409_CONFLICT
            body["holder"] = exc.holder
        if exc.field:
            body["errors"] = {exc.field: [exc.message]}
        return Response(body, status=code)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {
            "detail": _first_message(exc.detail),
            "code": "invalid",
            "errors": exc.detail
            if isinstance(exc.detail, dict)
            else {"non_field_errors": exc.detail},
        }
    else:
        detail = (
            response.data.get("detail", "") if isinstance(response.data, dict) else ""
        )
        response.data = {
            "detail": str(detail),
            "code": getattr(detail, "code", None) or exc.default_code,
        }
    return response
