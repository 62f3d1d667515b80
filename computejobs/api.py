"""/api/compute/: create, list and follow compute jobs (scope ``compute``)."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema, Status

from computejobs.models import ComputeJob
from computejobs.selectors import instances_offered, job_list, kinds_summary, result_json
from computejobs.services import job_create
from dreamnet.ninja import AUTH_ERRORS, MAX_OFFSET, ErrorOut, require_scope

router = Router(tags=["compute"], auth=require_scope("compute"))


class JobIn(Schema):
    kind: str
    params: dict = {}


class JobArtifactOut(Schema):
    name: str
    blake3: str
    media_type: str
    url: str


class JobOut(Schema):
    id: int
    kind: str
    status: str
    progress: float
    message: str
    params: dict
    result: dict
    artifacts: list[JobArtifactOut]
    receipt_index: int | None
    created_at: datetime
    finished_at: datetime | None


@router.get("/kinds", response={200: dict[str, str], **AUTH_ERRORS}, summary="Job kinds")
def kinds(request: HttpRequest):
    return kinds_summary()


class InstanceOut(Schema):
    name: str
    optimum: int | None


@router.get("/instances", response={200: list[InstanceOut], **AUTH_ERRORS}, summary="TSPLIB instances")
def instances(request: HttpRequest):
    """The TSPLIB instances a `tsp` job may name in `instance`, with the published optimum where known."""
    return instances_offered()


@router.post("/jobs", response={201: JobOut, **AUTH_ERRORS, 422: ErrorOut}, summary="Queue a compute job")
def job_new(request: HttpRequest, body: JobIn):
    """Validate the parameters and queue the job on the task cluster; follow it with GET /jobs/{id}.

    A refusal (422, code `bad_job`) names every wrong parameter: `errors` maps each to its own message.
    """
    job = job_create(kind=body.kind, params=body.params, by=request.api_key.created_by)
    return Status(201, result_json(job))


@router.get("/jobs", response={200: list[JobOut], **AUTH_ERRORS}, summary="Recent jobs")
def jobs(
    request: HttpRequest,
    kind: str | None = None,
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
):
    return [result_json(j) for j in job_list(kind=kind)[offset : offset + limit]]


@router.get("/jobs/{job_id}", response={200: JobOut, **AUTH_ERRORS, 404: ErrorOut}, summary="One job")
def job(request: HttpRequest, job_id: int):
    return result_json(get_object_or_404(ComputeJob, pk=job_id))
