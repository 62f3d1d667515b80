from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from commerce.services import CommerceError
from commerce.subscriptions import plans_sync


class Command(BaseCommand):
    help = (
        "Find the Lemon Squeezy subscription variant of every active plan (by the plan's slug or name, or a product "
        "named 'DreamNet <plan>') and report variants whose listed price differs from the plan's."
    )

    def handle(self, *args, **options) -> None:
        try:
            changes = plans_sync(provider_name="lemonsqueezy")
        except CommerceError as exc:
            raise CommandError(exc.detail) from exc
        for change in changes:
            self.stdout.write(change)
        self.stdout.write("Plans are up to date with Lemon Squeezy." if not changes else f"{len(changes)} note(s).")
