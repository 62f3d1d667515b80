"""The deterministic generator: a validated resource spec -> the files of a Django app for the demo workspace
layout (``apps/<name>/``): model, admin, a django-ninja CRUD router, its migration and its tests.

Pure module: imports nothing from Django. The same spec always gives the same files; nothing here is written by a
language model.
"""

from __future__ import annotations

import json
from typing import Any

MODEL_FIELD = {
    "str": "models.CharField(max_length={max_length}{opts})",
    "text": "models.TextField({opts0})",
    "int": "models.IntegerField({opts0})",
    "decimal": "models.DecimalField(max_digits=12, decimal_places=2{opts})",
    "bool": "models.BooleanField(default=False)",
    "date": "models.DateField({opts0})",
    "datetime": "models.DateTimeField({opts0})",
}
PY_TYPE = {
    "str": "str",
    "text": "str",
    "int": "int",
    "decimal": "Decimal",
    "bool": "bool",
    "date": "date",
    "datetime": "datetime",
}


def class_name(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_") if part) or "Item"


def app_dir(spec: dict[str, Any]) -> str:
    return f"apps/{spec['name']}"


def _opts(field: dict[str, Any]) -> list[str]:
    opts = []
    if not field["required"]:
        opts.append('blank=True, default=""' if field["type"] in ("str", "text") else "null=True, blank=True")
    if field["unique"]:
        opts.append("unique=True")
    return opts


def _model_field(field: dict[str, Any]) -> str:
    opts = _opts(field)
    return MODEL_FIELD[field["type"]].format(
        max_length=field["max_length"], opts="".join(", " + o for o in opts), opts0=", ".join(opts)
    )


def _sample(field: dict[str, Any], variant: int) -> str:
    """Return a Python literal of a valid value for ``field`` (variant 0 or 1 differ)."""
    kind = field["type"]
    if kind == "str":
        return json.dumps(f"{field['name']}-{variant}"[: field["max_length"]] or "x")
    if kind == "text":
        return json.dumps(f"Some {field['name']} text, version {variant}.")
    if kind == "int":
        return str(7 + variant)
    if kind == "decimal":
        return f'Decimal("{12 + variant}.50")'
    if kind == "bool":
        return "True" if variant == 0 else "False"
    if kind == "date":
        return f"date(2026, 1, {2 + variant})"
    return f"datetime(2026, 1, {2 + variant}, 3, 4, 5, tzinfo=UTC)"


def _json_sample(field: dict[str, Any], variant: int) -> str:
    kind = field["type"]
    if kind == "decimal":
        return f'"{12 + variant}.50"'
    if kind == "date":
        return f'"2026-01-{2 + variant:02d}"'
    if kind == "datetime":
        return f'"2026-01-{2 + variant:02d}T03:04:05Z"'
    return _sample(field, variant)


def _imports_for(fields: list[dict[str, Any]], *, tz: bool) -> list[str]:
    kinds = {f["type"] for f in fields}
    lines = []
    dt = [n for n, k in (("UTC", "datetime"), ("date", "date"), ("datetime", "datetime")) if k in kinds]
    if not tz:
        dt = [n for n in dt if n != "UTC"]
    if dt:
        lines.append(f"from datetime import {', '.join(dt)}")
    if "decimal" in kinds:
        lines.append("from decimal import Decimal")
    return lines


def models_py(spec: dict[str, Any]) -> str:
    cls = class_name(spec["name"])
    label = next((f["name"] for f in spec["fields"] if f["type"] == "str"), None)
    lines = [
        f'"""The {cls} resource."""',
        "",
        "from django.db import models",
        "",
        "",
        f"class {cls}(models.Model):",
    ]
    lines += [f"    {f['name']} = {_model_field(f)}" for f in spec["fields"]]
    lines += [
        "    created_at = models.DateTimeField(auto_now_add=True)",
        "",
        "    class Meta:",
        '        ordering = ["id"]',
        "",
        "    def __str__(self) -> str:",
        f"        return str(self.{label})" if label else f'        return f"{cls} {{self.pk}}"',
        "",
    ]
    return "\n".join(lines)


def migration_py(spec: dict[str, Any]) -> str:
    cls = class_name(spec["name"])
    fields = ['                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, '
              'verbose_name="ID")),']  # fmt: skip
    fields += [f'                ("{f["name"]}", {_model_field(f)}),' for f in spec["fields"]]
    fields += ['                ("created_at", models.DateTimeField(auto_now_add=True)),']
    return "\n".join([
        "from django.db import migrations, models",
        "",
        "",
        "class Migration(migrations.Migration):",
        "    initial = True",
        "    dependencies = []",
        "",
        "    operations = [",
        "        migrations.CreateModel(",
        f'            name="{cls}",',
        "            fields=[",
        *fields,
        "            ],",
        '            options={"ordering": ["id"]},',
        "        ),",
        "    ]",
        "",
    ])  # fmt: skip


def admin_py(spec: dict[str, Any]) -> str:
    cls = class_name(spec["name"])
    shown = ", ".join(f'"{f["name"]}"' for f in spec["fields"][:5])
    searchable = [f'"{f["name"]}"' for f in spec["fields"] if f["type"] in ("str", "text")][:3]
    lines = [
        "from django.contrib import admin",
        "",
        f"from .models import {cls}",
        "",
        "",
        f"@admin.register({cls})",
        f"class {cls}Admin(admin.ModelAdmin):",
        f'    list_display = ("id", {shown})',
    ]
    if searchable:
        lines.append(f"    search_fields = ({', '.join(searchable)},)")
    return "\n".join([*lines, ""])


def apps_py(spec: dict[str, Any]) -> str:
    cls = class_name(spec["name"])
    return "\n".join([
        "from django.apps import AppConfig",
        "",
        "",
        f"class {cls}Config(AppConfig):",
        '    default_auto_field = "django.db.models.BigAutoField"',
        f'    name = "apps.{spec["name"]}"',
        "",
    ])  # fmt: skip


def _schema_field(field: dict[str, Any]) -> str:
    kind = PY_TYPE[field["type"]]
    if field["type"] == "str":
        if field["required"]:
            return f"    {field['name']}: str = Field(..., min_length=1, max_length={field['max_length']})"
        return f'    {field["name"]}: str = Field("", max_length={field["max_length"]})'
    if field["type"] == "text":
        return f"    {field['name']}: str" + ("" if field["required"] else ' = ""')
    if field["type"] == "decimal":
        bound = (
            "Field(..., max_digits=12, decimal_places=2)"
            if field["required"]
            else ("Field(None, max_digits=12, decimal_places=2)")
        )
        return f"    {field['name']}: Decimal{'' if field['required'] else ' | None'} = {bound}"
    if field["type"] == "bool":
        return f"    {field['name']}: bool = False"
    return f"    {field['name']}: {kind}" + ("" if field["required"] else " | None = None")


def api_py(spec: dict[str, Any]) -> str:
    cls, name, ops = class_name(spec["name"]), spec["name"], spec["operations"]
    writes = "create" in ops or "update" in ops
    unique = any(f["unique"] for f in spec["fields"])
    lines = [f'"""CRUD for {cls} ({", ".join(ops)})."""', ""]
    if writes:
        lines += _imports_for(spec["fields"], tz=False)
        if lines[-1] != "":
            lines.append("")
    if writes and unique:
        lines += ["from django.db import IntegrityError, transaction"]
    if any(op in ops for op in ("get", "update", "delete")):
        lines += ["from django.shortcuts import get_object_or_404"]
    ninja = ["ModelSchema", "Router"] + (["Field", "Schema"] if writes else [])
    lines += [f"from ninja import {', '.join(sorted(ninja))}", "", f"from .models import {cls}", ""]
    lines += [f'router = Router(tags=["{name}"])', "", ""]
    lines += [
        f"class {cls}Out(ModelSchema):",
        "    class Meta:",
        f"        model = {cls}",
        "        fields = ["
        + "".join(f'\n            "{n}",' for n in ["id", *(f["name"] for f in spec["fields"]), "created_at"])
        + "\n        ]",
        "",
        "",
    ]
    if writes:
        lines += [f"class {cls}In(Schema):"] + [_schema_field(f) for f in spec["fields"]] + ["", ""]
        lines += ["class ErrorOut(Schema):", "    detail: str", "", ""]
    if "list" in ops:
        lines += [
            f'@router.get("/", response=list[{cls}Out])',
            f"def list_{name}(request):",
            f'    return {cls}.objects.order_by("id")',
            "",
            "",
        ]
    if "get" in ops:
        lines += [
            f'@router.get("/{{item_id}}", response={cls}Out)',
            f"def get_{name}(request, item_id: int):",
            f"    return get_object_or_404({cls}, pk=item_id)",
            "",
            "",
        ]
    if "create" in ops:
        lines += [
            f'@router.post("/", response={{201: {cls}Out, 409: ErrorOut}})',
            f"def create_{name}(request, payload: {cls}In):",
        ]
        if unique:
            lines += [
                "    try:",
                "        with transaction.atomic():",
                f"            item = {cls}.objects.create(**payload.model_dump())",
                "    except IntegrityError:",
                '        return 409, {"detail": "A record with these unique values already exists."}',
                "    return 201, item",
            ]
        else:
            lines += [f"    return 201, {cls}.objects.create(**payload.model_dump())"]
        lines += ["", ""]
    if "update" in ops:
        lines += [
            f'@router.put("/{{item_id}}", response={{200: {cls}Out, 409: ErrorOut}})',
            f"def update_{name}(request, item_id: int, payload: {cls}In):",
            f"    item = get_object_or_404({cls}, pk=item_id)",
            "    for field, value in payload.model_dump().items():",
            "        setattr(item, field, value)",
        ]
        if unique:
            lines += [
                "    try:",
                "        with transaction.atomic():",
                "            item.save()",
                "    except IntegrityError:",
                '        return 409, {"detail": "A record with these unique values already exists."}',
            ]
        else:
            lines += ["    item.save()"]
        lines += ["    return 200, item", "", ""]
    if "delete" in ops:
        lines += [
            '@router.delete("/{item_id}", response={204: None})',
            f"def delete_{name}(request, item_id: int):",
            f"    get_object_or_404({cls}, pk=item_id).delete()",
            "    return 204, None",
            "",
            "",
        ]
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n"


def _dict_literal(items: dict[str, str]) -> str:
    """Return a dict literal with one key a line, indented for a test method body."""
    body = "".join(f'\n            "{key}": {value},' for key, value in items.items())
    return "{" + body + "\n        }"


def tests_py(spec: dict[str, Any]) -> str:
    cls, name, ops, fields = class_name(spec["name"]), spec["name"], spec["operations"], spec["fields"]
    base = f"/api/{name}/"
    values = "".join(f"\n            {f['name']}={_sample(f, 0)}," for f in fields) + "\n        "
    lines = [f'"""Tests of the {cls} API (generated with it)."""', ""]
    lines += _imports_for(fields, tz=True)
    if lines[-1] != "":
        lines.append("")
    lines += ["from django.test import TestCase", "", f"from .models import {cls}", "", ""]
    lines += [
        f"class {cls}ApiTests(TestCase):",
        "    def setUp(self):",
        f"        self.item = {cls}.objects.create({values})",
        "",
        "    def test_the_model_saves_and_reads_back(self):",
        f"        item = {cls}.objects.get(pk=self.item.pk)",
    ]
    lines += [f"        self.assertEqual(item.{f['name']}, {_sample(f, 0)})" for f in fields]
    if "list" in ops:
        lines += [
            "",
            "    def test_list(self):",
            f'        response = self.client.get("{base}")',
            "        self.assertEqual(response.status_code, 200)",
            '        self.assertEqual([row["id"] for row in response.json()], [self.item.pk])',
        ]
    if "get" in ops or "update" in ops or "delete" in ops:
        lines += [
            "",
            "    def test_an_unknown_id_is_404(self):",
            f'        self.assertEqual(self.client.{"get" if "get" in ops else "delete"}("{base}999999").status_code, 404)',
        ]
    if "get" in ops:
        lines += [
            "",
            "    def test_get(self):",
            f'        response = self.client.get(f"{base}{{self.item.pk}}")',
            "        self.assertEqual(response.status_code, 200)",
            '        self.assertEqual(response.json()["id"], self.item.pk)',
        ]
    payload = _dict_literal({f["name"]: _json_sample(f, 1) for f in fields})
    if "create" in ops:
        lines += [
            "",
            "    def test_create(self):",
            f"        payload = {payload}",
            f'        response = self.client.post("{base}", payload, content_type="application/json")',
            "        self.assertEqual(response.status_code, 201, response.content)",
            f'        item = {cls}.objects.get(pk=response.json()["id"])',
        ]
        lines += [f"        self.assertEqual(item.{f['name']}, {_sample(f, 1)})" for f in fields]
        required = [f for f in fields if f["required"] and f["type"] != "bool"]
        if required:
            missing = required[0]["name"]
            lines += [
                "",
                "    def test_create_refuses_a_missing_required_field(self):",
                f"        payload = {payload}",
                f'        del payload["{missing}"]',
                f'        response = self.client.post("{base}", payload, content_type="application/json")',
                "        self.assertEqual(response.status_code, 422)",
                f"        self.assertEqual({cls}.objects.count(), 1)",
            ]
        if any(f["unique"] for f in fields):
            dup = _dict_literal({f["name"]: _json_sample(f, 0) for f in fields})
            lines += [
                "",
                "    def test_create_refuses_a_duplicate(self):",
                f"        payload = {dup}",
                f'        response = self.client.post("{base}", payload, content_type="application/json")',
                "        self.assertEqual(response.status_code, 409)",
            ]
    if "update" in ops:
        lines += [
            "",
            "    def test_update(self):",
            f"        payload = {payload}",
            f'        response = self.client.put(f"{base}{{self.item.pk}}", payload, content_type="application/json")',
            "        self.assertEqual(response.status_code, 200, response.content)",
            "        self.item.refresh_from_db()",
        ]
        lines += [f"        self.assertEqual(self.item.{f['name']}, {_sample(f, 1)})" for f in fields]
    if "delete" in ops:
        lines += [
            "",
            "    def test_delete(self):",
            f'        response = self.client.delete(f"{base}{{self.item.pk}}")',
            "        self.assertEqual(response.status_code, 204)",
            f"        self.assertFalse({cls}.objects.filter(pk=self.item.pk).exists())",
        ]
    return "\n".join(lines) + "\n"


def plan(spec: dict[str, Any]) -> list[dict[str, str]]:
    """Return the Architect's file plan: each file's path and what it holds."""
    root = app_dir(spec)
    cls = class_name(spec["name"])
    return [
        {"path": f"{root}/__init__.py", "purpose": "marks the app package"},
        {"path": f"{root}/apps.py", "purpose": f"AppConfig apps.{spec['name']}"},
        {"path": f"{root}/models.py", "purpose": f"model {cls} with {len(spec['fields'])} field(s) and created_at"},
        {"path": f"{root}/migrations/__init__.py", "purpose": "marks the migrations package"},
        {"path": f"{root}/migrations/0001_initial.py", "purpose": f"creates the {cls} table"},
        {"path": f"{root}/admin.py", "purpose": f"admin for {cls}"},
        {"path": f"{root}/api.py", "purpose": f"ninja Router `router` ({', '.join(spec['operations'])})"},
        {"path": f"{root}/tests.py", "purpose": "API and model tests"},
    ]


def generate(spec: dict[str, Any]) -> dict[str, str]:
    """Return ``{path: content}`` of every file of the app for ``spec`` (validated, structured)."""
    root = app_dir(spec)
    return {
        f"{root}/__init__.py": "",
        f"{root}/apps.py": apps_py(spec),
        f"{root}/models.py": models_py(spec),
        f"{root}/migrations/__init__.py": "",
        f"{root}/migrations/0001_initial.py": migration_py(spec),
        f"{root}/admin.py": admin_py(spec),
        f"{root}/api.py": api_py(spec),
        f"{root}/tests.py": tests_py(spec),
    }


def requirements(spec: dict[str, Any]) -> dict[str, Any]:
    """Return the SpecReader's requirements and acceptance criteria for a structured spec."""
    cls = class_name(spec["name"])
    reqs = [f"A model {cls} stored in its own app `apps.{spec['name']}` with a migration."]
    for f in spec["fields"]:
        bits = [f["type"], "required" if f["required"] else "optional"]
        if f["max_length"]:
            bits.append(f"max {f['max_length']} chars")
        if f["unique"]:
            bits.append("unique")
        reqs.append(f"Field `{f['name']}`: {', '.join(bits)}.")
    reqs.append(f"A JSON API at /api/{spec['name']}/ offering: {', '.join(spec['operations'])}.")
    reqs.append(f"{cls} is editable in the Django admin.")
    acceptance = [f"`{op}` answers as specified and is covered by a test." for op in spec["operations"]]
    acceptance += ["Bad input gets 422; unknown ids get 404.", "The workspace's whole test suite passes."]
    return {"requirements": reqs, "acceptance": acceptance}


def pr_text(spec: dict[str, Any], files: list[str]) -> dict[str, str]:
    """Return ContentCraft's PR title, description and changelog line for a structured spec."""
    cls = class_name(spec["name"])
    title = f"Add the {cls} resource: model, admin and CRUD API"
    req = requirements(spec)
    description = "\n".join(
        [f"Adds `apps.{spec['name']}`, generated by DreamNet's CodeGenerationTeam from a structured spec.", ""]
        + ["Requirements:"] + [f"- {r}" for r in req["requirements"]] + ["", "Acceptance criteria:"]
        + [f"- {a}" for a in req["acceptance"]] + ["", "Files:"] + [f"- `{p}`" for p in files]
    )  # fmt: skip
    changelog = f"Added: {cls} resource with a JSON API at /api/{spec['name']}/ ({', '.join(spec['operations'])})."
    return {"title": title, "description": description, "changelog": changelog}
