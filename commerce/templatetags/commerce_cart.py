"""``{% cart_line_count as n %}``: how many lines the signed-in member's cart holds (0 for everyone else)."""

from __future__ import annotations

from django import template

from commerce import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def cart_line_count(context: template.Context) -> int:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return 0
    membership = selectors.membership_for(user)
    return selectors.cart_line_count(user=user, company=membership.company) if membership else 0
