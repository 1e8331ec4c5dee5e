"""Sign-in throttling: django-axes for the login forms, counted failures for
API tokens (``incidentops.throttle``), and a password-reset view that sends at
most a few e-mails per account and address."""

from __future__ import annotations

import logging

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication, get_authorization_header

from incidentops import throttle

logger = logging.getLogger(__name__)


class SignInThrottleBackend(AxesStandaloneBackend):
    """django-axes' lockout check for every sign-in that comes with a request
    (the portal and admin login forms, DRF's session login). A call without a
    request — code in a shell or a test, never a web client — is not a sign-in
    attempt anybody can repeat at web speed, so it is left to the next backend
    instead of being refused."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(
            request, username=username, password=password, **kwargs
        )


class ThrottledTokenAuthentication(TokenAuthentication):
    """DRF's ``Authorization: Token <key>``, with wrong keys counted per client
    address: after ``API_AUTH_FAILURE_LIMIT`` of them in
    ``API_AUTH_FAILURE_WINDOW`` seconds, every token from that address gets 429
    (``code: throttled``) until the window ends — the right one too, so guessing
    goes no faster than the limit."""

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        address = throttle.client_address(request)
        if throttle.blocked(
            "api-token", address, limit=settings.API_AUTH_FAILURE_LIMIT
        ):
            raise exceptions.Throttled(
                wait=settings.API_AUTH_FAILURE_WINDOW,
                detail="Too many wrong API tokens from this address; try again later.",
            )
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            throttle.count(
                "api-token", address, window=settings.API_AUTH_FAILURE_WINDOW
            )
            raise


class ThrottledPasswordResetView(auth_views.PasswordResetView):
    """Django's password reset, sending at most ``PASSWORD_RESET_LIMIT`` e-mails
    per address entered and ``PASSWORD_RESET_ADDRESS_LIMIT`` per client address
    in ``PASSWORD_RESET_WINDOW`` seconds. Over the limit the answer is the same
    "check your e-mail" page, so it tells nobody whether an account exists; the
    mail is just not sent (logged)."""

    def form_valid(self, form):
        email = form.cleaned_data["email"].strip().lower()
        window = settings.PASSWORD_RESET_WINDOW
        per_account = throttle.count("password-reset", email, window=window)
        per_address = throttle.count(
            "password-reset-address",
            throttle.client_address(self.request),
            window=window,
        )
        if (
            per_account > settings.PASSWORD_RESET_LIMIT
            or per_address > settings.PASSWORD_RESET_ADDRESS_LIMIT
        ):
            logger.warning("Password reset not sent: over the limit")
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)
