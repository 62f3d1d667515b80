"""Scripted company set-up: ``company create|add-member|show``."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from commerce.models import Company, Membership
from commerce.services import CommerceError, company_create, membership_add


class Command(BaseCommand):
    help = "Create companies, add members, show a company."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{create,add-member,show}")
        create = sub.add_parser("create", help="Create a company.")
        create.add_argument("slug")
        create.add_argument("--name", required=True)
        create.add_argument("--verified", action="store_true", help="Mark KYC verified (it can execute orders).")
        create.add_argument("--country", default="US", help="ISO 3166 alpha-2; chooses the payment methods offered.")
        create.add_argument("--currency", default="USD", help="ISO 4217 currency the company pays in.")
        add = sub.add_parser("add-member", help="Add a user to a company (or change their role).")
        add.add_argument("slug")
        add.add_argument("username")
        add.add_argument("--role", choices=Membership.Role.values, default=Membership.Role.BUYER)
        show = sub.add_parser("show", help="Show a company, its limits and members.")
        show.add_argument("slug")

    def handle(self, *args, action: str, **options) -> None:
        try:
            if action == "create":
                company = company_create(
                    slug=options["slug"],
                    name=options["name"],
                    verified=options["verified"],
                    country=options["country"],
                    currency=options["currency"],
                )
                self.stdout.write(f"Created {company.name} ({company.slug}), KYC {company.kyc_status}.")
            elif action == "add-member":
                membership = membership_add(
                    company=self._company(options["slug"]), user=self._user(options["username"]), role=options["role"]
                )
                self.stdout.write(f"{membership.user} is now {membership.role} at {membership.company.name}.")
            else:
                self._show(self._company(options["slug"]))
        except CommerceError as exc:
            raise CommandError(exc.detail) from exc

    def _company(self, slug: str) -> Company:
        company = Company.objects.filter(slug=slug).first()
        if company is None:
            raise CommandError(f"No company has the slug {slug!r}.")
        return company

    def _user(self, username: str):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user is named {username!r}; create it first (createsuperuser or the admin).")
        return user

    def _show(self, company: Company) -> None:
        self.stdout.write(f"{company.name} ({company.slug})")
        self.stdout.write(f"  KYC {company.kyc_status}; per-order limit ${company.per_order_limit:,}; "
                          f"approval above ${company.approval_threshold:,}")  # fmt: skip
        for m in company.memberships.select_related("user"):
            self.stdout.write(f"  {m.user.get_username():<20} {m.role}")
        if not company.memberships.exists():
            self.stdout.write("  no members yet: company add-member SLUG USERNAME --role buyer")
