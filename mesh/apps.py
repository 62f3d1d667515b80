from __future__ import annotations

from django.apps import AppConfig


class MeshConfig(AppConfig):
    name = "mesh"
    verbose_name = "StarBridge mesh"

    def ready(self) -> None:
        from dreamnet.health import probe
        from mesh.health import probe_mesh_log, probe_peers

        probe("mesh_log", required=False)(probe_mesh_log)
        probe("peers", required=False)(probe_peers)
        import mesh.stats  # noqa: F401  (registers the strip's figures)

    def serve_setup(self, stdout) -> None:
        """Ensure the node identity and the mesh schedules: checkpoints, peer heartbeats, webhook retries and the daily
        chunk store gc (run by `manage.py serve`)."""
        from mesh.identity import identity_ensure
        from mesh.tasks import schedule_ensure

        identity, created = identity_ensure()
        if created:
            stdout.write(f"Created the node identity {identity.node_id}; verifier key: {identity.verifier_key}")
        schedule_ensure()
