from __future__ import annotations

from django.apps import AppConfig
from django.core.exceptions import ImproperlyConfigured


class CommerceConfig(AppConfig):
    name = "commerce"
    verbose_name = "Prime Source Direct"

    def ready(self) -> None:
        from commerce.health import probe_spot_feed
        from dreamnet.health import probe

        probe("spot_feed", required=False)(probe_spot_feed)
        from django.db.models.signals import post_delete, post_save

        from commerce.models import PriceTier, Product, SpotTick
        from commerce.selectors import catalog_changed, spot_ticked

        for model in (Product, PriceTier):  # the catalog's per-tick rows are keyed on the catalog's version
            post_save.connect(catalog_changed, sender=model, dispatch_uid=f"catalog_changed_save_{model.__name__}")
            post_delete.connect(catalog_changed, sender=model, dispatch_uid=f"catalog_changed_delete_{model.__name__}")
        # spot_refresh drops the public pages' shared spot copy itself (bulk_create sends no signal); a tick saved
        # any other way drops it here.
        post_save.connect(lambda **_kwargs: spot_ticked(), sender=SpotTick, dispatch_uid="spot_ticked", weak=False)
        # Imported for their registrations: the strip's figures (stats), and the payment-event handlers of the
        # order services and subscriptions, which the webhook inbox must find whatever imported it first.
        import commerce.services
        import commerce.stats
        import commerce.subscriptions  # noqa: F401
        from commerce.payments import payment_rules

        try:
            payment_rules()  # a typo in DREAMNET_PAYMENT_RULES fails at start, not on a buyer's cart
        except ValueError as exc:
            raise ImproperlyConfigured(f"DREAMNET_PAYMENT_RULES: {exc}") from exc

    def serve_setup(self, stdout) -> None:
        """Load the demo catalog, take a first spot reading, and schedule the feed and the order sweep."""
        from commerce.demo import demo_catalog_load, demo_plans_load
        from commerce.services import CommerceError, spot_refresh
        from commerce.subscriptions import briefs_compute_all
        from commerce.tasks import schedules_ensure

        created = demo_catalog_load()
        if created:
            stdout.write(f"Loaded {created} demo products.")
        try:
            spot_refresh()
        except CommerceError as exc:
            stdout.write(f"Spot feed: {exc.detail}")
        demo_plans_load()
        briefs_compute_all()
        schedules_ensure()
