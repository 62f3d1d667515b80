"""The narrative says where it came from: the language model (when one is configured) or the offline template,
also when the model fails and the template stands in."""

from __future__ import annotations

import json

import pytest

from agents.llm import LlmError, LlmRequest, LlmResponse, Usage
from mesh.services import artifact_read
from reports.narrative import TEMPLATE_LABEL, narrative_template
from tests.reports.conftest import pdf_text, report_make


class ScriptedModel:
    """A provider that answers the narrative call from the figures it was sent (or fails, when told to)."""

    name = "openai"

    def __init__(self, *, fail: bool = False) -> None:
        self.fail = fail
        self.requests: list[LlmRequest] = []

    def complete(self, request: LlmRequest) -> LlmResponse:
        self.requests.append(request)
        if self.fail:
            raise LlmError("HTTP 503 from the provider")
        figures = json.loads(request.messages[-1]["content"].split("Figures (JSON): ", 1)[1])
        placed = figures["headline"][0]["value"]
        return LlmResponse("openai", request.model, f"Acme placed {placed} orders this month.", [], Usage(900, 0, 40))


@pytest.fixture
def model_configured(settings):
    settings.LLM_PROVIDER = "openai"
    settings.OPENAI_API_KEY = "sk-test-not-used"


def test_a_model_narrative_is_labelled_with_its_model(model_configured, orders, shop):
    model = ScriptedModel()
    report = report_make(type="orders", company=shop, provider=model)

    assert report.status == "succeeded", report.mission.error
    assert report.narrative_source == "model"
    assert report.narrative == "Acme placed 3 orders this month."
    assert report.narrative_model.startswith(report.mission.model)
    assert len(model.requests) == 1
    call = report.mission.llm_calls.get()
    assert call.seq == 1 and call.cost_usd > 0  # budgeted like every mission call
    assert report.mission.cost_usd == call.cost_usd
    text = pdf_text(artifact_read(report.pdf))
    assert f"Narrative source: language model {report.mission.model}" in text
    assert "Acme placed 3 orders this month." in text
    assert "template" not in text.lower()
    assert report.receipt.inputs["narrative_source"] == "model"


def test_a_failing_model_leaves_the_template_narrative_labelled_as_such(model_configured, orders, shop):
    report = report_make(type="orders", company=shop, provider=ScriptedModel(fail=True))

    assert report.status == "succeeded", report.mission.error
    assert report.narrative_source == "template"
    assert report.narrative.startswith(TEMPLATE_LABEL)
    assert "The language model failed: HTTP 503 from the provider" in report.narrative
    assert "Narrative source: template" in artifact_read(report.html).decode()


def test_the_template_states_the_headline_figures_with_units():
    figures = {
        "empty": False,
        "headline": [{"label": "Orders placed", "value": "3", "unit": "count"},
                     {"label": "Spend", "value": "12345.5", "unit": "usd"}],
        "tables": [],
        "notes": ["Spot prices are simulated."],
    }  # fmt: skip
    text = narrative_template(name="Orders and spend", period="2026-11", subject="Acme", figures=figures)
    assert text.startswith("[template narrative] Orders and spend for Acme, 2026-11.")
    assert "orders placed: 3; spend: $12,345.50." in text
    assert "Spot prices are simulated." in text
    assert text.endswith("no language model was called (offline).")
