"""Git work for the Integrator and ContentCraft: fresh temporary checkouts of a workspace, the diff, the
``git apply --check``, the mbox that ``git am`` applies, and the demo workspace.

Pure module (no Django). Every checkout is a ``git clone --shared`` into a temporary folder that is removed when
the ``with`` block ends, failure or not; the workspace itself is only read.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from agents.codegen.gates import path_problem

AUTHOR = ("DreamNet CodeGenerationTeam", "codegen@dreamnet.invalid")


class GitError(RuntimeError):
    pass


def git(*args: str, cwd: Path, stdin: str | None = None) -> str:
    done = subprocess.run(
        ["git", "-c", f"user.name={AUTHOR[0]}", "-c", f"user.email={AUTHOR[1]}", "-c", "commit.gpgsign=false",
         "-c", "core.hooksPath=/dev/null", *args],
        cwd=cwd, input=stdin, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise GitError(f"git {' '.join(args[:2])} failed: {(done.stderr or done.stdout).strip()[:1000]}")
    return done.stdout


def head(path: Path) -> str:
    return git("rev-parse", "HEAD", cwd=path).strip()


def is_repo(path: Path) -> bool:
    try:
        return git("rev-parse", "--is-inside-work-tree", cwd=path).strip() == "true"
    except (GitError, OSError):
        return False


@contextlib.contextmanager
def checkout(path: Path, commit: str) -> Iterator[Path]:
    """Yield a fresh clean checkout of ``commit`` of the repository at ``path``; remove it afterwards."""
    tmp = Path(tempfile.mkdtemp(prefix="dreamnet-codegen-"))
    try:
        root = tmp / "ws"
        git("clone", "--quiet", "--shared", "--no-checkout", str(path), str(root), cwd=tmp)
        git("checkout", "--quiet", "--detach", commit, cwd=root)
        yield root
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_files(root: Path, files: dict[str, str], allowed: list[str]) -> list[str]:
    """Write the files whose paths are safe into the checkout; return the refused paths (never written)."""
    refused = []
    base = root.resolve()
    for path, content in sorted(files.items()):
        target = root / path
        if path_problem(path, allowed) or not target.resolve().is_relative_to(base):
            refused.append(path)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.parent.resolve().is_relative_to(base):
            refused.append(path)
            continue
        target.write_text(content)
    return refused


def staged_diff(root: Path) -> str:
    git("add", "-A", cwd=root)
    return git("diff", "--cached", "--binary", "--no-color", cwd=root)


def apply(root: Path, diff: str, *, check: bool = False) -> None:
    git("apply", *(["--check"] if check else []), "-", cwd=root, stdin=diff)


def mbox(path: Path, commit: str, diff: str, title: str, description: str) -> str:
    """Return the patch as one commit in mbox form (``git format-patch -1 --stdout``), made on a fresh checkout."""
    with checkout(path, commit) as root:
        apply(root, diff)
        git("add", "-A", cwd=root)
        git("commit", "--quiet", "--no-verify", "-m", title, "-m", description or title, cwd=root)
        return git("format-patch", "-1", "--stdout", "--no-signature", cwd=root)


DEMO_FILES = {
    ".gitignore": "__pycache__/\n*.pyc\ndb.sqlite3\n",
    "README.md": (
        "# DreamNet demo workspace\n\nA minimal Django project for DreamNet's CodeGenerationTeam. Each app in "
        "`apps/` that has an `apps.py` is installed, and its `api.py` `router` is mounted at `/api/<app>/`.\n\n"
        "Run the tests with `python manage.py test`.\n"
    ),
    "manage.py": """#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
""",
    "demo/__init__.py": "",
    "demo/settings.py": '''"""Settings of the demo workspace (development only: the key below is not a secret)."""

from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "demo-workspace-not-a-secret"
DEBUG = True
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
] + sorted(f"apps.{p.name}" for p in (BASE_DIR / "apps").iterdir() if (p / "apps.py").exists())
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "demo.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
STATIC_URL = "static/"
''',
    "demo/urls.py": '''"""The admin at /admin/ and the API at /api/: each installed app's `api.router` at /api/<app>/."""

import importlib
import importlib.util

from django.apps import apps
from django.contrib import admin
from django.urls import path
from ninja import NinjaAPI

api = NinjaAPI(title="Demo workspace")


@api.get("/health")
def health(request):
    return {"ok": True}


for config in apps.get_app_configs():
    if config.name.startswith("apps.") and importlib.util.find_spec(f"{config.name}.api"):
        api.add_router(f"/{config.label}/", importlib.import_module(f"{config.name}.api").router)

urlpatterns = [path("admin/", admin.site.urls), path("api/", api.urls)]
''',
    "demo/tests.py": """from django.test import TestCase


class HealthTests(TestCase):
    def test_the_api_answers(self):
        response = self.client.get("/api/health")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json(), {"ok": True})
""",
    "apps/__init__.py": "",
    "ruff.toml": 'line-length = 120\ntarget-version = "py312"\n\n[lint]\nselect = ["E", "F", "W", "I", "B", "UP"]\n',
}
DEMO_TEST_COMMAND = "{python} manage.py test --noinput"


def init_demo(path: Path) -> str:
    """Create the demo workspace repository at ``path`` (an empty or missing folder); return its HEAD."""
    path.mkdir(parents=True, exist_ok=True)
    if any(path.iterdir()):
        raise GitError(f"{path} is not empty; give a new folder for the demo workspace.")
    for name, content in DEMO_FILES.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(content)
    git("init", "--quiet", "--initial-branch=main", cwd=path)
    git("add", "-A", cwd=path)
    git("commit", "--quiet", "--no-verify", "-m", "Demo workspace for DreamNet's CodeGenerationTeam", cwd=path)
    return head(path)
