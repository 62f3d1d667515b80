"""Template filters for compute figures: ``{% load computejobs_figures %}{{ value|integer }}`` gives "21,282"."""

from __future__ import annotations

from typing import Any

from django import template

from computejobs import figures

register = template.Library()


@register.filter
def integer(value: Any) -> str:
    """Return a whole number with thousands separators; anything else as it is."""
    return figures.text(figures.integer, value)
