"""`manage.py setup` sets the node up without serving (the one-shot of a container deployment), idempotently."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django_q.models import Schedule

from commerce.models import Product

pytestmark = pytest.mark.django_db


def test_setup_loads_the_node_and_is_idempotent(settings):
    settings.DREAMNET_ADMIN_PASSWORD = "setup-test-password-42"
    out = StringIO()
    call_command("setup", stdout=out)
    products = Product.objects.count()
    assert products > 0
    assert "Created the operator account 'operator'." in out.getvalue()
    assert get_user_model().objects.get(username="operator").check_password("setup-test-password-42")
    assert Schedule.objects.filter(name="dreamnet.health_record", func="dreamnet.health.health_record_task").exists()
    schedules = Schedule.objects.count()
    again = StringIO()
    call_command("setup", stdout=again)
    assert Product.objects.count() == products
    assert Schedule.objects.count() == schedules
    assert "Created the operator account" not in again.getvalue()
