from __future__ import annotations

from django.contrib.sitemaps import Sitemap
from django.urls import reverse


class PagesSitemap(Sitemap):
    changefreq = "daily"

    def items(self) -> list[str]:
        return ["home", "commerce:catalog", "commerce:intelligence", "dreamsnail", "dreamstar", "foundry", "status", "contact", "changelog",
                "privacy", "terms"]  # fmt: skip

    def location(self, item: str) -> str:
        return reverse(item)


class ProductSitemap(Sitemap):
    changefreq = "hourly"

    def items(self):
        from commerce.models import Product

        return Product.objects.filter(active=True).order_by("sku")
