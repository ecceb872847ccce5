"""Content for the CI host site: an institution for the default Site, an offer index and an offer
under the host's own HomePage, as an editor would create them in the admin.

Run by .ci/host_site from the host's project folder with the host's python and
DJANGO_SETTINGS_MODULE; prints the offer's path as JSON on the last line.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import timedelta

sys.path.insert(0, os.getcwd())  # the host project (manage.py's folder), as manage.py would

import django  # noqa: E402

django.setup()

from django.utils import timezone  # noqa: E402
from wagtail.models import Site  # noqa: E402

from workpro_plugin.models import Institution, OfferCategory, OfferIndexPage, OfferPage, Operator  # noqa: E402

site = Site.objects.get(is_default_site=True)
home = site.root_page.specific
print(f"default site {site.hostname}:{site.port}, root page {home.title!r} ({type(home).__module__}.{type(home).__name__})")

operator, _ = Operator.objects.get_or_create(name="Träger der CI-Gastseite")
institution, _ = Institution.objects.get_or_create(
    site=site,
    defaults={"operator": operator, "name": "KiTa Gastseite", "slug": "kita-gastseite",
              "email": "info@kita-gastseite.example", "street": "Sonnenweg 1", "postcode": "12345",
              "city": "Musterstadt"},
)
print(f"institution {institution.name!r} for site {site.pk}")

index = OfferIndexPage.objects.child_of(home).first()
if index is None:
    index = OfferIndexPage(title="Angebote", slug="angebote")
    home.add_child(instance=index)
    index.save_revision().publish()
print(f"offer index {index.url_path}")

today = timezone.localdate()
offer = OfferPage.objects.child_of(index).filter(slug="krippenplatz").first()
if offer is None:
    offer = OfferPage(
        title="Krippenplatz", slug="krippenplatz",
        category=OfferCategory.objects.get(institution=None, slug="betreuung"),  # shared, from migration 0034
        teaser="Betreuung für Kinder bis drei Jahre.", capacity=10, age_min=0, age_max=3,
        starts_on=today + timedelta(days=60), ends_on=today + timedelta(days=800),
        applications_open_from=today - timedelta(days=10), applications_close_on=today + timedelta(days=30),
    )
    index.add_child(instance=offer)
    offer.save_revision().publish()
offer.refresh_from_db()
print(f"offer {offer.title!r} live={offer.live}")
print(json.dumps({"offer_path": offer.relative_url(site), "offer_id": offer.pk}))
