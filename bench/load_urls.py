"""URLs for bench/load.py only: the project's URLs plus /bench/bare, the reference a page is compared with."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from dreamnet.urls import urlpatterns as project_urlpatterns


def bare(request: HttpRequest) -> HttpResponse:
    """The least Django can do: routing, the middleware stack, and a two-byte response."""
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path("bench/bare", bare), *project_urlpatterns]
