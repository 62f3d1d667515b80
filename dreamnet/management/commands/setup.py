"""Set up the node without serving: migrate, collect static files in production, run each app's ``serve_setup``
(demo catalog, first spot reading, node identity, schedules), and ensure the operator account.

``manage.py serve`` runs this first; a container deployment runs it once per release as a one-shot
(``podman run ... dreamnet python manage.py setup``, the ``setup`` service of compose.yaml) before web and workers.
Idempotent: running it again changes nothing that is already set up.
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Migrate and set up the node (demo data, identity, schedules, operator account); then exit."

    def handle(self, *args, **options) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        if settings.PRODUCTION:
            call_command("collectstatic", interactive=False, verbosity=0)
        for config in apps.get_app_configs():
            setup = getattr(config, "serve_setup", None)
            if setup is not None:
                setup(self.stdout)
        self._ensure_operator()

    def _ensure_operator(self) -> None:
        User = get_user_model()
        username = settings.DREAMNET_ADMIN_USERNAME
        password = settings.DREAMNET_ADMIN_PASSWORD
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(username=username, is_staff=True, is_superuser=True)
            if password:
                user.set_password(password)
            else:
                user.set_unusable_password()
            user.save()
            self.stdout.write(f"Created the operator account {username!r}.")
        elif password and not user.check_password(password):
            user.set_password(password)
            user.save(update_fields=["password"])
            self.stdout.write(f"Set the password of {username!r} from DREAMNET_ADMIN_PASSWORD.")
        if not user.has_usable_password():
            self.stdout.write(
                f"The operator {username!r} has no password yet; set one with:\n"
                f"  {Path(sys.executable).name} manage.py changepassword {username}\n"
                "or start with DREAMNET_ADMIN_PASSWORD set."
            )
