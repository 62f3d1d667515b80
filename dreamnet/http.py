"""Typed requests for views (django-htmx adds ``request.htmx``) and the console's access guard."""

from __future__ import annotations

from django.contrib.auth.decorators import user_passes_test
from django.contrib.auth.models import User
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


class AuthenticatedHtmxRequest(HtmxHttpRequest):
    user: User


def _is_operator(user) -> bool:
    return user.is_active and user.is_staff


# Console pages: operators (active staff) only; everyone else is sent to the login page.
operator_required = user_passes_test(_is_operator)
