"""/api/reports refusals and access: each bad input and each company a caller may not report on has its own
4xx code; nobody sees another company's reports. (No mission runs here: requests stay queued.)"""

from __future__ import annotations

import pytest

from commerce.services import company_key_link
from dreamnet.apikeys import apikey_create
from reports.models import Report


def _key(*, company: str | None = None, user: str | None = None, scopes=("reports",)) -> dict[str, str]:
    key, raw = apikey_create(name=f"k-{company}-{user}-{len(scopes)}", scopes=list(scopes))
    if company:
        company_key_link(api_key=key, slug=company, username=user)
    return {"X-DREAMNET-KEY": raw}


@pytest.fixture
def acme_key(acme, alice):
    return _key(company="acme", user="alice")


@pytest.fixture
def operator_key(db):
    return _key()


def test_types_list_every_type_with_its_audience(client, acme_key):
    answer = client.get("/api/reports/types", headers=acme_key)
    assert answer.status_code == 200
    types = {t["slug"]: t["audience"] for t in answer.json()}
    assert types == {"orders": "company", "holdings": "company", "market": "company", "missions": "operator",
                     "llm-spend": "operator", "compute-jobs": "operator", "mesh": "operator"}  # fmt: skip
    assert all({"slug", "name", "audience"} <= set(t) for t in answer.json())


def test_a_company_key_requests_its_company_report(client, acme_key):
    answer = client.post("/api/reports", {"type": "orders", "period": "2026-11"}, content_type="application/json",
                         headers=acme_key)  # fmt: skip
    assert answer.status_code == 202, answer.content
    body = answer.json()
    assert body["company"] == "acme" and body["period"] == "2026-11" and body["status"] == "queued"
    report = Report.objects.get(pk=body["id"])
    assert report.mission.kind == "report" and report.mission.input["report"] == report.pk
    got = client.get(f"/api/reports/{report.pk}", headers=acme_key).json()
    assert got["status"] == report.mission.status == "queued"
    not_ready = client.get(f"/api/reports/{report.pk}/pdf", headers=acme_key)
    assert not_ready.status_code == 409 and not_ready.json()["code"] == "report_not_ready"


BAD = [
    ({"type": "weather"}, 404, "unknown_report_type"),
    ({"type": "orders", "period": "November"}, 422, "bad_period"),
    ({"type": "orders", "period": "2026-13"}, 422, "bad_period"),
    ({"type": "orders", "period": "2099-01"}, 422, "bad_period"),
    ({"type": "orders", "period": "2026-11-30..2026-11-01"}, 422, "bad_period"),
    ({"type": "orders", "company": "nobody"}, 404, "unknown_company"),
    ({"type": "orders", "company": "other"}, 403, "company_not_linked"),
    ({"type": "missions"}, 403, "operators_only"),
]


def test_bad_requests_get_their_own_codes(client, acme_key, other):
    for body, status, code in BAD:
        answer = client.post("/api/reports", body, content_type="application/json", headers=acme_key)
        assert (answer.status_code, answer.json()["code"]) == (status, code), (body, answer.content)
        assert answer.json()["detail"]
    assert not Report.objects.exists()


def test_an_operator_key_reports_on_the_node_and_any_company(client, operator_key, acme, other):
    node = client.post("/api/reports", {"type": "mesh", "period": "2026-W48"}, content_type="application/json",
                       headers=operator_key)  # fmt: skip
    assert node.status_code == 202 and node.json()["company"] is None
    company = client.post("/api/reports", {"type": "market", "company": "other"}, content_type="application/json",
                          headers=operator_key)  # fmt: skip
    assert company.status_code == 202 and company.json()["company"] == "other"
    for body, code in (
        ({"type": "orders"}, "company_required"),
        ({"type": "mesh", "company": "acme"}, "company_not_allowed"),
    ):
        refused = client.post("/api/reports", body, content_type="application/json", headers=operator_key)
        assert refused.status_code == 422 and refused.json()["code"] == code


def test_nobody_sees_another_companys_report(client, acme_key, other, charlie):
    theirs = client.post("/api/reports", {"type": "orders"}, content_type="application/json",
                         headers=_key(company="other", user="charlie")).json()  # fmt: skip
    for path in ("", "/pdf", "/html"):
        answer = client.get(f"/api/reports/{theirs['id']}{path}", headers=acme_key)
        assert answer.status_code == 404 and answer.json()["code"] == "report_not_found"


def test_a_key_without_the_scope_is_refused(client, acme):
    answer = client.get("/api/reports/types", headers=_key(company="acme", scopes=("commerce",)))
    assert answer.status_code == 403


def test_a_session_without_a_company_is_refused(client, charlie):
    client.force_login(charlie)
    answer = client.get("/api/reports/1")
    assert answer.status_code == 403 and answer.json()["code"] == "no_company"
