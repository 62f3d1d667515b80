from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandParser

from mesh.identity import node_identity
from mesh.log import latest_checkpoint, log_size


class Command(BaseCommand):
    help = "Print this node's id, verifier key, log size and latest checkpoint."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args, **options) -> None:
        identity = node_identity()
        checkpoint = latest_checkpoint()
        info = {
            "node_id": identity.node_id,
            "origin": identity.origin,
            "verifier_key": identity.verifier_key,
            "log_size": log_size(),
            "checkpoint": checkpoint.note if checkpoint else None,
        }
        if options["json"]:
            self.stdout.write(json.dumps(info, indent=2))
            return
        self.stdout.write(f"node id       {info['node_id']}")
        self.stdout.write(f"origin        {info['origin']}")
        self.stdout.write(f"verifier key  {info['verifier_key']}")
        self.stdout.write(f"log size      {info['log_size']}")
        self.stdout.write("checkpoint    " + ("none yet" if checkpoint is None else f"size {checkpoint.size}"))
        if checkpoint is not None:
            self.stdout.write(checkpoint.note)
