"""Lift a sign-in lockout early: ``login_unlock USERNAME`` and/or ``login_unlock --ip ADDRESS``."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dreamnet.security import login_unlock


class Command(BaseCommand):
    help = "Clear the failed sign-in counters of a username and/or a client address (lockouts also expire)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", nargs="?", help="The username as it was typed at sign-in.")
        parser.add_argument("--ip", help="A client address whose sign-ins are locked out.")

    def handle(self, *args, username: str | None, ip: str | None, **options) -> None:
        if not username and not ip:
            raise CommandError("Name a username, an --ip address, or both.")
        login_unlock(username=username, ip=ip)
        unlocked = " and ".join(part for part in (username and f"user {username!r}", ip and f"address {ip}") if part)
        self.stdout.write(f"Unlocked {unlocked}.")
