"""Manage API keys: ``apikey create --name N --scopes a,b``, ``apikey list``, ``apikey revoke PREFIX``."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from dreamnet.apikeys import KEY_PREFIX, SCOPES, apikey_create, apikey_revoke
from dreamnet.models import ApiKey


class Command(BaseCommand):
    help = "Create, list and revoke API keys for machine clients (header X-DREAMNET-KEY)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{create,list,revoke}")
        create = sub.add_parser("create", help="Create a key and print it once.")
        create.add_argument("--name", required=True, help="Who uses the key, e.g. erp-sync.")
        create.add_argument("--scopes", required=True, help=f"Comma-separated scopes from: {', '.join(SCOPES)}.")
        create.add_argument("--company", help="Link the key to one company (commerce endpoints act for it).")
        create.add_argument("--as", dest="acts_as", help="Username the key acts as (a member; default: an admin).")
        sub.add_parser("list", help="List keys (prefix, name, scopes, last use, revocation).")
        revoke = sub.add_parser("revoke", help="Revoke a key by its prefix.")
        revoke.add_argument("prefix", help="The key's prefix as `apikey list` shows it.")

    def handle(self, *args, action: str, **options) -> None:
        try:
            getattr(self, f"_{action}")(**options)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc

    def _create(self, *, name: str, scopes: str, company: str | None, acts_as: str | None, **_options) -> None:
        with transaction.atomic():
            key, raw = apikey_create(name=name, scopes=scopes.split(","))
            if company:
                from commerce.services import CommerceError, company_key_link

                try:
                    link = company_key_link(api_key=key, slug=company, username=acts_as)
                except CommerceError as exc:
                    raise CommandError(exc.detail) from exc
                self.stdout.write(f"Linked to {link.company.name}; acts as {link.acts_as.get_username()}.")
        self.stdout.write(f"Created API key {KEY_PREFIX}{key.prefix}… ({key.name}; scopes: {', '.join(key.scopes)})")
        self.stdout.write("Send it in the X-DREAMNET-KEY header. It is shown this once:")
        self.stdout.write(raw)

    def _list(self, **_options) -> None:
        keys = ApiKey.objects.all()
        if not keys:
            self.stdout.write("No API keys yet; create one with: manage.py apikey create --name NAME --scopes ops")
            return
        for key in keys:
            used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never used"
            state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
            self.stdout.write(f"{key.prefix}  {key.name:<24} {','.join(key.scopes):<28} {used:<16} {state}")

    def _revoke(self, *, prefix: str, **_options) -> None:
        key = apikey_revoke(prefix=prefix)
        self.stdout.write(f"Revoked {KEY_PREFIX}{key.prefix}… ({key.name}) at {key.revoked_at:%Y-%m-%d %H:%M:%S} UTC.")
