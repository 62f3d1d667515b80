"""With production settings every response carries the CSP (no 'unsafe-inline', a nonce for scripts) and the
secure headers, cookies are Secure, and plain HTTP is redirected to HTTPS. The settings are built in a
subprocess from a production environment, exactly as the node would start."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from reports.render import DOCUMENT_CSP

ROOT = Path(__file__).resolve().parents[2]

PROBE = r"""
import json
import django
django.setup()
from django.test import Client
from django.test.utils import override_settings

# Production serves hashed static names from collectstatic's manifest; the probe has not run it.
storages = {"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
out = {}
with override_settings(STORAGES=storages):
    client = Client()
    for url in ("/privacy", "/accounts/login/", "/api/changelog", "/robots.txt"):
        r = client.get(url, secure=True, HTTP_HOST="dreamnet.example.com")
        out[url] = {"status": r.status_code, "headers": dict(r.headers),
                    "cookies": {k: {"secure": bool(v["secure"]), "httponly": bool(v["httponly"]),
                                    "samesite": v["samesite"]} for k, v in r.cookies.items()},
                    "body": r.content.decode() if url == "/accounts/login/" else ""}
    r = client.get("/privacy", HTTP_HOST="dreamnet.example.com")
    out["plain-http"] = {"status": r.status_code, "location": r.headers.get("Location", "")}
print("PROBE" + json.dumps(out))
"""


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DREAMNET_", "DATABASE_URL", "REDIS_URL"))}
    env |= {
        "DREAMNET_HOME": str(tmp_path_factory.mktemp("prod-home")),
        "DREAMNET_ENV": "production",
        "SECRET_KEY": "x7" * 30 + "QzR!pL#",
        "DREAMNET_ALLOWED_HOSTS": "dreamnet.example.com",
        "DJANGO_SETTINGS_MODULE": "dreamnet.settings",
    }
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.split("PROBE", 1)[1])


PAGES = ("/privacy", "/accounts/login/", "/api/changelog", "/robots.txt")


@pytest.mark.parametrize("url", PAGES)
def test_the_csp_forbids_inline_code(production, url):
    answer = production[url]
    assert answer["status"] == 200
    csp = answer["headers"]["Content-Security-Policy"]
    directives = dict([*d.strip().split(" ", 1), ""][:2] for d in csp.split(";") if d.strip())
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert directives["default-src"] == "'self'"
    assert re.fullmatch(r"'self'( 'nonce-[A-Za-z0-9+/=_-]+')?", directives["script-src"])
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'self'"
    assert directives["form-action"] == "'self'"
    assert "upgrade-insecure-requests" in directives


@pytest.mark.parametrize("url", PAGES)
def test_the_secure_headers_are_sent(production, url):
    headers = production[url]["headers"]
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"


def test_cookies_are_secure_and_plain_http_is_redirected(production):
    cookies = production["/accounts/login/"]["cookies"]
    assert cookies["csrftoken"]["secure"] is True
    assert production["plain-http"] == {"status": 301, "location": "https://dreamnet.example.com/privacy"}


def test_page_scripts_are_files_or_carry_the_nonce_and_no_inline_handlers(production):
    login = production["/accounts/login/"]
    nonce = re.search(r"'nonce-([^']+)'", login["headers"]["Content-Security-Policy"])
    page = login["body"]
    for tag in re.findall(r"<script\b[^>]*>", page):
        assert "src=" in tag or (nonce and f'nonce="{nonce.group(1)}"' in tag), tag
    assert not re.search(r"\son[a-z]+\s*=", page), "inline event handlers need 'unsafe-inline'"
    assert "style=" not in page, "inline style attributes need 'unsafe-inline'"


# Documents served alone under a policy of their own (never inside a site page), with that policy.
STANDALONE_DOCUMENTS = {
    # A report is one self-contained file: stored as an artifact, printed by WeasyPrint, opened offline.
    "templates/reports/document.html": DOCUMENT_CSP,
}


def test_no_template_needs_unsafe_inline():
    """Inline <script> bodies, <style> blocks, style="" attributes and on*="" handlers would all need
    'unsafe-inline'; the site's CSP forbids it, so none may appear in a template, bar a standalone document
    whose own policy allows inline style, sandboxed, and nothing else."""
    offenders = []
    for template in sorted((ROOT / "templates").rglob("*.html")):
        text = template.read_text(encoding="utf-8")
        if str(template.relative_to(ROOT)) in STANDALONE_DOCUMENTS:
            assert not re.search(r"<script\b|\son[a-z]+\s*=", text), template
            continue
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag:
                offenders.append(f"{template.relative_to(ROOT)}: inline script {tag}")
        for pattern in (r"<style\b", r"\sstyle\s*=", r"\son[a-z]+\s*="):
            offenders += [f"{template.relative_to(ROOT)}: {m.group(0)!r}" for m in re.finditer(pattern, text)]
    assert not offenders, "\n".join(offenders)


def test_standalone_documents_are_sandboxed_and_run_nothing():
    for template, policy in STANDALONE_DOCUMENTS.items():
        directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
        assert directives["default-src"] == ["'none'"] and "sandbox" in directives, template
        assert "script-src" not in directives and "allow-scripts" not in directives["sandbox"], template
