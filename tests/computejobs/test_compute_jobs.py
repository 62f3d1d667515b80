"""Compute jobs: validated, queued on the task cluster, run in the worker, outputs kept with a receipt."""

from __future__ import annotations

import json
import pydoc
from io import StringIO
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django_q.brokers import get_broker

from compute.instances import BUNDLED_DIR, KNOWN_OPTIMA
from computejobs.kinds import JobError
from computejobs.models import ComputeJob
from computejobs.services import job_create
from computejobs.tasks import compute_job_task
from dreamnet.apikeys import apikey_create
from mesh.models import Artifact, Event, Receipt

pytestmark = pytest.mark.django_db
SEVEN = ["a280", "berlin52", "ch150", "eil51", "eil76", "kroA100", "st70"]  # bundled in compute/data


@pytest.fixture(autouse=True)
def _no_extra_tsplib_dir(settings):
    settings.TSPLIB_DIR = None  # the bundled instances only, as on a fresh clone


@pytest.mark.parametrize(
    ("kind", "params", "message"),
    [
        ("nope", {}, "Unknown job kind 'nope'"),
        ("tsp", {"instance": "eil51", "seconds": 0}, "seconds must be between 0.1 and 300"),
        ("tsp", {"instance": "eil51", "seconds": "soon"}, "seconds must be a number"),
        ("tsp", {"instance": "../etc/passwd"}, "Give `tsplib`"),
        (
            "tsp",
            {"tsplib": "NAME: x\nTYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: XYZ\nNODE_COORD_SECTION\n1 0 0\n"},
            "XYZ",
        ),
    ],
)
def test_bad_jobs_are_refused_with_the_parameter_named(kind, params, message):
    with pytest.raises(JobError, match=message.replace("(", r"\(").replace(".", r"\.")):
        job_create(kind=kind, params=params)
    assert not ComputeJob.objects.exists()


def test_a_refusal_names_every_wrong_parameter_with_its_own_error():
    with pytest.raises(JobError) as caught:
        job_create(kind="tsp", params={"instance": "nowhere", "seconds": 0, "seed": "x"})
    errors = caught.value.errors
    assert set(errors) == {"instance", "seconds", "seed"}
    assert errors["seconds"].startswith("seconds must be between 0.1 and 300")
    assert errors["seed"].startswith("seed must be a number")
    assert all(message in str(caught.value) for message in errors.values())

    with pytest.raises(JobError) as caught:
        job_create(kind="montecarlo", params={"spot": -1, "volatility": -1, "steps": 0, "paths": 1})
    assert set(caught.value.errors) == {"spot", "volatility", "steps", "paths"}
    assert caught.value.errors["volatility"].startswith("volatility must be a positive")

    with pytest.raises(JobError) as caught:
        job_create(kind="physarum", params={"size": 1, "agents": 0, "nodes": 1})
    assert set(caught.value.errors) == {"size", "agents", "nodes"}

    with pytest.raises(JobError) as caught:
        job_create(kind="render", params={"scene": "nope", "width": 0})
    assert set(caught.value.errors) == {"scene", "width"}
    assert not ComputeJob.objects.exists()


def test_a_node_offers_the_seven_bundled_instances(client, olivia):
    with pytest.raises(CommandError, match="offered: " + ", ".join(SEVEN)):
        call_command("compute", "tsp", "nowhere")
    for name in SEVEN:
        job_create(kind="tsp", params={"instance": name, "seconds": 1})
    assert ComputeJob.objects.count() == 7
    _key, raw = apikey_create(name="lab", scopes=["compute"])
    offered = client.get("/api/compute/instances", headers={"X-DREAMNET-KEY": raw}).json()
    assert offered == [{"name": name, "optimum": KNOWN_OPTIMA[name]} for name in SEVEN]
    client.force_login(olivia)
    assert all(f"<code>{name}</code>" in client.get("/console/compute/").content.decode() for name in SEVEN)


def test_an_extra_folder_adds_instances(settings, tmp_path):
    triangle = (
        "NAME: tiny\nTYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EUC_2D\nNODE_COORD_SECTION\n1 0 0\n2 3 0\n3 0 4\n"
    )
    (tmp_path / "tiny.tsp").write_text(triangle.replace("DIMENSION: 3", "DIMENSION: 4") + "4 3 4\nEOF\n")
    settings.TSPLIB_DIR = tmp_path
    job = job_create(kind="tsp", params={"instance": "tiny", "seconds": 1})
    assert compute_job_task(job.pk) == "succeeded"
    job.refresh_from_db()
    assert job.result["length"] == 14  # the 3 × 4 rectangle's perimeter
    with pytest.raises(JobError, match="needs at least 4"):
        job_create(kind="tsp", params={"tsplib": triangle + "EOF\n"})
    assert job_create(kind="tsp", params={"instance": "eil51", "seconds": 1}).params["instance"] == "eil51"


def test_a_tsp_job_is_queued_then_run_by_the_worker(django_capture_on_commit_callbacks):
    broker = get_broker()
    broker.purge_queue()
    with django_capture_on_commit_callbacks(execute=True):
        job = job_create(kind="tsp", params={"instance": "eil51", "seconds": 20, "seed": 1})
    assert job.status == "queued"
    assert broker.queue_size() == 1  # handed to the task cluster, not run in this process
    assert compute_job_task(job.pk) == "succeeded"
    job.refresh_from_db()
    assert job.result["length"] == 426  # stops at the known optimum
    assert job.result["gap_percent"] == 0
    assert {a["name"] for a in job.artifacts} == {"tour.svg", "convergence.svg", "tour.json"}
    tour = json.loads(
        __import__("mesh.services", fromlist=["artifact_read"]).artifact_read(
            Artifact.objects.get(blake3=next(a["blake3"] for a in job.artifacts if a["name"] == "tour.json"))
        )
    )["tour"]
    assert sorted(tour) == list(range(51))
    assert Receipt.objects.get(log_index=job.receipt_index).operation == "compute.tsp"
    assert Event.objects.filter(topic="compute.job.finished", payload__job=job.pk).exists()
    assert compute_job_task(job.pk) == "succeeded"  # a retried task leaves the finished job alone
    assert Receipt.objects.filter(subject=f"job:{job.pk}").count() == 1


def test_the_api_needs_the_compute_scope(client):
    assert client.post("/api/compute/jobs", {"kind": "tsp"}, content_type="application/json").status_code == 401
    _key, raw = apikey_create(name="lab", scopes=["compute"])
    response = client.post("/api/compute/jobs", {"kind": "tsp", "params": {"instance": "nowhere"}},
                           content_type="application/json", headers={"X-DREAMNET-KEY": raw})  # fmt: skip
    assert response.status_code == 422
    assert response.json()["code"] == "bad_job"
    assert set(response.json()["errors"]) == {"instance"}
    assert "tsp" in client.get("/api/compute/kinds", headers={"X-DREAMNET-KEY": raw}).json()


def test_the_api_queues_and_reports_a_job(client):
    _key, raw = apikey_create(name="lab", scopes=["compute"])
    created = client.post("/api/compute/jobs", {"kind": "tsp", "params": {"instance": "berlin52", "seconds": 20}},
                          content_type="application/json", headers={"X-DREAMNET-KEY": raw})  # fmt: skip
    assert created.status_code == 201
    job_id = created.json()["id"]
    compute_job_task(job_id)
    detail = client.get(f"/api/compute/jobs/{job_id}", headers={"X-DREAMNET-KEY": raw}).json()
    assert detail["status"] == "succeeded"
    assert detail["result"]["length"] == 7542
    assert all(a["url"].startswith("/console/artifacts/") for a in detail["artifacts"])


def test_the_console_launches_a_job_and_shows_its_pictures(client, olivia, alice):
    client.force_login(alice)
    assert client.get("/console/compute/").status_code == 302
    client.force_login(olivia)
    bad = client.post("/console/compute/", {"kind": "tsp", "params": "{not json"})
    assert bad.status_code == 422
    assert "Not JSON" in bad.content.decode()
    response = client.post("/console/compute/", {"kind": "tsp", "params": '{"instance": "eil51", "seconds": 20}'})
    job = ComputeJob.objects.get()
    assert response.headers["Location"] == f"/console/compute/{job.pk}/"
    assert "Waiting for a task-cluster worker" in client.get(response.headers["Location"]).content.decode()
    compute_job_task(job.pk)
    page = client.get(f"/console/compute/{job.pk}/").content.decode()
    assert "tour.svg" in page and "Receipt sealed" in page
    assert "<dt>length</dt><dd>426</dd>" in page and "<dt>gap</dt><dd>+0.00 %</dd>" in page
    svg = next(a for a in ComputeJob.objects.get().artifacts if a["name"] == "tour.svg")
    image = client.get(f"/console/artifacts/{svg['blake3']}")
    assert image.headers["Content-Type"] == "image/svg+xml"
    assert b"<polyline" in image.content


@pytest.mark.parametrize("given", ["eil51", str(BUNDLED_DIR / "eil51.tsp")], ids=["instance name", "file"])
def test_the_cli_solves_an_instance_or_a_tsplib_file(given):
    out = StringIO()
    call_command("compute", "tsp", given, "--seconds", "20", "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert result["name"] == "eil51"
    assert result["length"] == 426
    assert result["gap_percent"] == 0


def test_a_render_job_validates_the_scene_and_renders_a_png():
    with pytest.raises(JobError, match=r"\$\.camera"):
        job_create(kind="render", params={"scene": {"camera": {"fov": "wide"}}})
    with pytest.raises(JobError, match="bundled scene"):
        job_create(kind="render", params={"scene": "nope"})
    job = job_create(kind="render", params={"scene": "showcase", "width": 32, "height": 24, "samples": 2})
    assert compute_job_task(job.pk) == "succeeded"
    job.refresh_from_db()
    assert (job.result["width"], job.result["height"]) == (32, 24)
    (frame,) = job.artifacts
    from compute.render import decode_png
    from mesh.services import artifact_read

    image = decode_png(artifact_read(Artifact.objects.get(blake3=frame["blake3"])))
    assert image.shape == (24, 32, 3)


def test_the_cli_renders_a_scene(tmp_path):
    from compute.render import SCENES, read_png

    out = StringIO()
    target = tmp_path / "frame.png"
    call_command("compute", "render", str(SCENES / "showcase.json"), str(target), "--width", "24", "--height", "16",
                 "--samples", "1", stdout=out)  # fmt: skip
    assert read_png(target).shape == (16, 24, 3)
    assert "Rendered" in out.getvalue()


def test_a_montecarlo_job_reports_var_and_the_closed_form():
    with pytest.raises(JobError, match="volatility"):
        job_create(kind="montecarlo", params={"spot": 2650, "volatility": -1})
    job = job_create(kind="montecarlo", params={"spot": 2650, "quantity": 100, "volatility": 0.16, "paths": 50_000,
                                                "seed": 3})  # fmt: skip
    assert compute_job_task(job.pk) == "succeeded"
    job.refresh_from_db()
    simulated, exact = job.result["var"], job.result["closed_form_var"]
    assert set(simulated) == set(exact)
    for level in simulated:
        assert simulated[level] == pytest.approx(exact[level], rel=0.05)
    assert job.artifacts[0]["name"] == "risk.json"


def test_a_portfolio_job_reports_var_contributions_and_the_single_asset_check():
    with pytest.raises(JobError) as caught:
        job_create(kind="portfolio", params={"values": [1.0, 2.0], "volatilities": [0.1], "paths": 1})
    assert set(caught.value.errors) == {"volatilities", "paths"}
    one = job_create(kind="portfolio", params={"values": [1e6], "volatilities": [0.2], "paths": 100_000, "seed": 1})
    assert compute_job_task(one.pk) == "succeeded"
    one.refresh_from_db()
    for level, exact in one.result["closed_form_var"].items():
        assert one.result["var"][level] == pytest.approx(exact, rel=0.03)
    two = job_create(kind="portfolio", params={"values": [1e6, 5e5], "volatilities": [0.15, 0.8],
                                               "correlation": [[1, 0.3], [0.3, 1]], "horizon_days": 1,
                                               "shocks": "student_t", "dof": 4, "paths": 20_000})  # fmt: skip
    assert compute_job_task(two.pk) == "succeeded"
    two.refresh_from_db()
    assert two.result["closed_form_var"] is None
    assert sum(two.result["contributions"]["0.99"]) == pytest.approx(two.result["es"]["0.99"])


def test_a_physarum_job_draws_the_network():
    from compute.render import decode_png
    from mesh.services import artifact_read

    with pytest.raises(JobError, match="agents must be between"):
        job_create(kind="physarum", params={"agents": 0})
    job = job_create(kind="physarum", params={"size": 64, "agents": 2000, "steps": 20, "nodes": 3})
    assert compute_job_task(job.pk) == "succeeded"
    job.refresh_from_db()
    assert job.result["steps"] == 20
    assert job.result["steps_per_second"] > 0
    image = decode_png(artifact_read(Artifact.objects.get(blake3=job.artifacts[0]["blake3"])))
    assert image.shape == (64, 64, 3)


def test_a_flocking_job_draws_the_flock():
    from compute.render import decode_png
    from mesh.services import artifact_read

    with pytest.raises(JobError, match="prey must be between"):
        job_create(kind="flocking", params={"prey": 0})
    job = job_create(kind="flocking", params={"size": 128, "prey": 300, "predators": 3, "steps": 10})
    assert compute_job_task(job.pk) == "succeeded"
    job.refresh_from_db()
    assert job.result["steps"] == 10
    assert job.result["catches"] >= 0
    image = decode_png(artifact_read(Artifact.objects.get(blake3=job.artifacts[0]["blake3"])))
    assert image.ndim == 3


def test_a_refusal_is_a_domain_error_the_api_answers_as_bad_job():
    from dreamnet.errors import DomainError

    with pytest.raises(DomainError) as caught:
        job_create(kind="tsp", params={"seconds": 0})
    assert (caught.value.code, caught.value.status) == ("bad_job", 422)
    assert set(caught.value.as_body()["errors"]) == {"instance", "seconds"}


def test_a_task_queued_under_the_old_path_still_runs():
    """Django-Q2 stores a task's function as a dotted path; tasks queued before compute jobs moved to their own app
    name dreamnet.tasks, resolved the way a worker does (pydoc.locate)."""
    job = job_create(kind="render", params={"scene": "showcase", "width": 8, "height": 8, "samples": 1})
    assert pydoc.locate("dreamnet.tasks.compute_job_task")(job.pk) == "succeeded"
    with mock.patch("computejobs.services._enqueue") as enqueue:
        assert pydoc.locate("dreamnet.tasks.compute_jobs_recover_task")() == 0
    enqueue.assert_not_called()
    assert callable(pydoc.locate("dreamnet.tasks.showcase_task"))


def test_serve_setup_points_the_existing_schedules_at_the_new_task_paths():
    from django.apps import apps
    from django_q.models import Schedule

    for name, func in [("site: refresh showcase frames", "dreamnet.tasks.showcase_task"),
                       ("compute: recover jobs", "dreamnet.tasks.compute_jobs_recover_task")]:  # fmt: skip
        Schedule.objects.create(name=name, func=func, schedule_type=Schedule.MINUTES, minutes=1, repeats=-1)
    apps.get_app_config("computejobs").serve_setup(StringIO())
    assert dict(Schedule.objects.values_list("name", "func")) == {
        "site: refresh showcase frames": "computejobs.tasks.showcase_task",
        "compute: recover jobs": "computejobs.tasks.compute_jobs_recover_task",
    }
    assert all(pydoc.locate(func) for func in Schedule.objects.values_list("func", flat=True))
