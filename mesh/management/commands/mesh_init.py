from __future__ import annotations

from django.core.management.base import BaseCommand

from mesh.identity import identity_dir, identity_ensure


class Command(BaseCommand):
    help = "Create this node's Ed25519 identity in DREAMNET_HOME/identity/ if it does not exist."

    def handle(self, *args, **options) -> None:
        identity, created = identity_ensure()
        verb = "Created" if created else "Kept the existing"
        self.stdout.write(f"{verb} node identity {identity.node_id} in {identity_dir()}")
        self.stdout.write(f"Verifier key: {identity.verifier_key}")
