from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from commerce.services import CommerceError
from commerce.subscriptions import plans_sync


class Command(BaseCommand):
    help = "Create or update the Stripe product and monthly price of every active plan."

    def handle(self, *args, **options) -> None:
        try:
            changes = plans_sync()
        except CommerceError as exc:
            raise CommandError(exc.detail) from exc
        for change in changes:
            self.stdout.write(change)
        self.stdout.write("Plans are in sync with Stripe." if not changes else f"{len(changes)} change(s) made.")
