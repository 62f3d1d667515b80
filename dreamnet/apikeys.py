"""API keys: scopes, creation, revocation and authentication.

A key reads ``dnk_<prefix>_<secret>``: the prefix (12 hex digits) finds the row, the SHA-256 of the whole
key is compared in constant time. Keys carry 240 bits of randomness, so a plain hash is the right tool
(password hashers exist to slow down guessing of low-entropy secrets).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from dreamnet.models import ApiKey

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

KEY_PREFIX = "dnk_"

# Scope name → what it grants. Apps add their scopes here when they add scoped endpoints.
SCOPES: dict[str, str] = {
    "ops": "Read platform health and queue statistics.",
    "commerce": "Catalog, spot prices, quotes and orders.",
    "missions": "Create and follow agent missions.",
    "foundry": "Agent foundry: traits, hybrids, evaluations.",
    "codegen": "Code-generation team missions.",
    "dreamstar": "DreamStar ingestion, search and generation.",
    "mesh": "StarBridge events, Merkle log, receipts and artifacts.",
    "compute": "Compute jobs: simulations, risk, rendering.",
    "treasury": "A company's treasury: watched wallets, valuation snapshots and risk (company-linked keys).",
    "reports": "Reports: company reports (company-linked keys) and, for keys not linked to a company, operator reports.",
    "sync": "Sync portals between nodes: list, open, join, close; the transfer log.",
}

# last_used_at is refreshed at most this often, so a busy client does not turn every read into a write.
LAST_USED_RESOLUTION = timedelta(seconds=60)


class ApiKeyRejected(Exception):
    """A request's API key is missing, unknown, revoked or lacks a scope.

    ``status`` is 401 for a key that does not authenticate and 403 for one that lacks the scope.
    """

    def __init__(self, *, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def scopes_clean(scopes: list[str] | tuple[str, ...]) -> list[str]:
    """Return the scopes de-duplicated and sorted, or raise ValidationError naming the unknown ones."""
    cleaned = sorted({s.strip() for s in scopes if s.strip()})
    if not cleaned:
        raise ValidationError(f"Give at least one scope; known scopes: {', '.join(SCOPES)}.")
    unknown = [s for s in cleaned if s not in SCOPES]
    if unknown:
        raise ValidationError(f"Unknown scope(s): {', '.join(unknown)}. Known scopes: {', '.join(SCOPES)}.")
    return cleaned


def apikey_issue(key: ApiKey) -> str:
    """Give the unsaved ``key`` fresh key material and return the raw key (shown once, never stored)."""
    prefix = secrets.token_hex(6)
    raw = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(30)}"
    key.prefix = prefix
    key.key_hash = hash_key(raw)
    return raw


def apikey_create(*, name: str, scopes: list[str], by: AbstractBaseUser | None = None) -> tuple[ApiKey, str]:
    """Create a key and return it with its raw value, which the caller shows once."""
    name = name.strip()
    if not name:
        raise ValidationError("Give the key a name that says who uses it (e.g. 'erp-sync').")
    if len(name) > 100:
        raise ValidationError("Key names are at most 100 characters.")
    key = ApiKey(name=name, scopes=scopes_clean(scopes), created_by=by)
    raw = apikey_issue(key)
    key.save()
    return key, raw


def apikey_revoke(*, prefix: str) -> ApiKey:
    """Revoke the key with ``prefix`` (with or without the ``dnk_`` head). Revoking twice is a no-op.

    Locks the key row so a concurrent revoke keeps the first revocation time.
    """
    prefix = prefix.removeprefix(KEY_PREFIX).split("_", 1)[0]
    with transaction.atomic():
        try:
            key = ApiKey.objects.select_for_update().get(prefix=prefix)
        except ApiKey.DoesNotExist:
            raise ValidationError(f"No API key has the prefix {prefix!r}; `apikey list` shows them.") from None
        if key.revoked_at is None:
            key.revoked_at = timezone.now()
            key.save(update_fields=["revoked_at"])
    return key


def apikey_authenticate(*, raw: str | None, scope: str | None) -> ApiKey:
    """Return the active key matching ``raw`` that holds ``scope``, or raise ApiKeyRejected."""
    if not raw:
        raise ApiKeyRejected(status=401, code="api_key_missing", detail="Send an API key in the X-DREAMNET-KEY header.")
    body = raw.strip().removeprefix(KEY_PREFIX)
    prefix = body.split("_", 1)[0]
    key = ApiKey.objects.filter(prefix=prefix).first()
    # Hash and compare even when no row matched, so timing does not tell which prefixes exist.
    expected = key.key_hash if key else "0" * 64
    if not hmac.compare_digest(hash_key(raw.strip()), expected) or key is None:
        raise ApiKeyRejected(status=401, code="api_key_invalid", detail="The API key is not valid.")
    if key.revoked_at is not None:
        raise ApiKeyRejected(
            status=401,
            code="api_key_revoked",
            detail=f"API key {KEY_PREFIX}{key.prefix}… was revoked at {key.revoked_at:%Y-%m-%d %H:%M:%S} UTC.",
        )
    if scope is not None and scope not in key.scopes:
        raise ApiKeyRejected(
            status=403,
            code="api_key_scope",
            detail=f"API key {KEY_PREFIX}{key.prefix}… lacks the {scope!r} scope; it has: {', '.join(key.scopes)}.",
        )
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key
