"""E-mail to buyers. Amounts are formatted as people read them (the ``numbers`` filters), never raw decimals."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

from commerce.models import Order
from dreamnet.templatetags.numbers import usd


def order_confirmation_send(*, order_id: int) -> bool:
    """E-mail the buyer who placed the order its confirmation (lines, total, how and by when to pay).

    Returns False, sending nothing, when the buyer has no e-mail address. Called after the order commits.
    """
    order = Order.objects.select_related("company", "placed_by").get(pk=order_id)
    address = order.placed_by.email
    if not address:
        return False
    body = render_to_string(
        "commerce/email/order_confirmation.txt",
        {
            "order": order,
            "buyer": order.placed_by.get_full_name() or order.placed_by.get_username(),
            "lines": order.lines.select_related("product").order_by("pk"),
            "url": settings.SITE_URL + order.get_absolute_url(),
        },
    )
    send_mail(f"Order {order.number} placed: {usd(order.total)}", body, None, [address])
    return True
