from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from commerce.models import Company

pytestmark = pytest.mark.django_db


def test_company_commands(alice):
    out = StringIO()
    call_command("company", "create", "acme", "--name", "Acme Metals", "--verified", stdout=out)
    call_command("company", "add-member", "acme", "alice", "--role", "approver", stdout=out)
    call_command("company", "show", "acme", stdout=out)
    assert "Created Acme Metals (acme), KYC verified." in out.getvalue()
    assert "alice" in out.getvalue() and "approver" in out.getvalue()
    assert Company.objects.get(slug="acme").memberships.get().role == "approver"


def test_company_command_errors():
    with pytest.raises(CommandError, match="No company has the slug 'ghost'"):
        call_command("company", "show", "ghost")
    call_command("company", "create", "acme", "--name", "Acme", stdout=StringIO())
    with pytest.raises(CommandError, match="exists already"):
        call_command("company", "create", "acme", "--name", "Acme again", stdout=StringIO())
    with pytest.raises(CommandError, match="No user is named 'nobody'"):
        call_command("company", "add-member", "acme", "nobody")
