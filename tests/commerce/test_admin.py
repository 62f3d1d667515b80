"""Operator changes in the commerce admin go through the services: a row lock, a signed event naming the operator."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from commerce.models import Company, ComplianceFlag, Plan, Subscription
from commerce.services import CommerceError, company_kyc_reject, company_kyc_verify, quote_execute, quote_lock
from mesh.models import Event

pytestmark = pytest.mark.django_db


def _operator(user, *codenames: str) -> Client:
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="commerce", codename__in=codenames))
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def _action(client: Client, url: str, action: str, pks: list[int]):
    client.get(url)  # sets the CSRF cookie, as a browser opening the list would
    token = client.cookies["csrftoken"].value
    data = {"action": action, "_selected_action": [str(pk) for pk in pks], "csrfmiddlewaretoken": token}
    return client.post(url, data, follow=True)


def test_an_operator_verifies_kyc_in_the_admin_and_the_log_names_her(olivia):
    pending = Company.objects.create(slug="newco", name="NewCo")
    client = _operator(olivia, "view_company", "change_company")
    response = _action(client, "/admin/commerce/company/", "verify", [pending.pk])
    assert response.status_code == 200
    assert "Verified 1." in response.content.decode()
    pending.refresh_from_db()
    assert pending.kyc_status == "verified"
    event = Event.objects.get(topic="company.kyc_verified")
    assert event.payload["company"] == "newco"
    assert (event.payload["from"], event.payload["to"]) == ("pending", "verified")
    assert event.actor == f"user:{olivia.pk}"


def test_without_the_csrf_token_the_action_is_refused_and_nothing_changes(olivia):
    pending = Company.objects.create(slug="newco", name="NewCo")
    client = _operator(olivia, "view_company", "change_company")
    response = client.post("/admin/commerce/company/", {"action": "verify", "_selected_action": [str(pending.pk)]})
    assert response.status_code == 403
    pending.refresh_from_db()
    assert pending.kyc_status == "pending"
    assert not Event.objects.filter(topic__startswith="company.kyc").exists()


def test_rejecting_reports_each_refusal_and_publishes_only_real_changes(olivia, acme):
    pending = Company.objects.create(slug="newco", name="NewCo", kyc_status="rejected")
    client = _operator(olivia, "view_company", "change_company")
    page = _action(client, "/admin/commerce/company/", "reject", [acme.pk, pending.pk]).content.decode()
    assert "Rejected 1." in page
    assert "NewCo is KYC rejected; it cannot be marked rejected." in page
    acme.refresh_from_db()
    assert acme.kyc_status == "rejected"
    assert list(Event.objects.filter(topic="company.kyc_rejected").values_list("payload__company", flat=True)) == [
        "acme"
    ]


def test_kyc_is_not_editable_in_the_company_form(olivia, acme):
    client = _operator(olivia, "view_company", "change_company")
    page = client.get(f"/admin/commerce/company/{acme.pk}/change/").content.decode()
    assert 'name="kyc_status"' not in page


def test_the_kyc_services_refuse_a_no_op(olivia, acme):
    with pytest.raises(CommerceError, match="is KYC verified; it cannot be marked verified") as exc:
        company_kyc_verify(company=acme, by=olivia)
    assert exc.value.code == "bad_kyc_transition"
    company_kyc_reject(company=acme, by=olivia, note="documents expired")
    assert Event.objects.get(topic="company.kyc_rejected").payload["note"] == "documents expired"


def test_clearing_a_compliance_flag_in_the_admin_is_logged(olivia, alice, shop):
    quote = quote_lock(company=shop, by=alice, lines=[("xau-coin-maple-1oz", 1)])
    order = quote_execute(quote=quote, by=alice, lock_token=str(quote.lock_token))
    flag = ComplianceFlag.objects.create(company=shop, order=order, window_total=20000, threshold=10000)
    client = _operator(olivia, "view_complianceflag", "change_complianceflag")
    assert "Cleared 1." in _action(client, "/admin/commerce/complianceflag/", "clear", [flag.pk]).content.decode()
    flag.refresh_from_db()
    assert flag.cleared_by == olivia
    assert Event.objects.get(topic="compliance.cleared").actor == f"user:{olivia.pk}"
    again = _action(client, "/admin/commerce/complianceflag/", "clear", [flag.pk]).content.decode()
    assert "This flag was cleared at" in again
    assert Event.objects.filter(topic="compliance.cleared").count() == 1


def test_granting_and_revoking_a_plan_in_the_admin_goes_through_the_services(olivia, acme):
    plan = Plan.objects.create(slug="desk", name="Desk", monthly_price=49, features="Daily brief")
    client = _operator(olivia, "view_subscription", "add_subscription", "change_subscription")
    client.get("/admin/commerce/subscription/add/")
    token = client.cookies["csrftoken"].value
    add = {"company": acme.pk, "plan": plan.pk, "current_period_end_0": "", "current_period_end_1": "",
           "csrfmiddlewaretoken": token}  # fmt: skip
    assert client.post("/admin/commerce/subscription/add/", add).status_code == 302
    sub = Subscription.objects.get()
    assert (sub.status, sub.granted_by) == ("active", olivia)
    assert Event.objects.get(topic="subscription.granted").actor == f"user:{olivia.pk}"
    change = {"status": "canceled", "current_period_end_0": "", "current_period_end_1": "",
              "csrfmiddlewaretoken": token}  # fmt: skip
    assert client.post(f"/admin/commerce/subscription/{sub.pk}/change/", change).status_code == 302
    sub.refresh_from_db()
    assert sub.status == "canceled"
    assert Event.objects.get(topic="subscription.canceled").actor == f"user:{olivia.pk}"
