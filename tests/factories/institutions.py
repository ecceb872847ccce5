"""Institutions: operator, homepage, site, offer index and staff groups."""


def make_institution(slug="kita", hostname=None, name=None, operator="Träger GmbH"):
    """A small institution tree: operator, homepage, site, offer index, staff groups."""
    from wagtail.models import Page, Site

    from home.models import HomePage
    from workpro_plugin.models import Institution, OfferIndexPage, Operator
    from workpro_plugin.services.institutions import ensure_staff_groups

    operator, _ = Operator.objects.get_or_create(name=operator)
    root = Page.get_first_root_node()
    home = HomePage(title=name or slug.title(), slug=slug)
    root.add_child(instance=home)
    site = Site.objects.create(
        hostname=hostname or f"{slug}.test", port=80, root_page=home,
        is_default_site=not Site.objects.filter(is_default_site=True).exists(),
    )
    index = OfferIndexPage(title="Angebote", slug="angebote")
    home.add_child(instance=index)
    institution = Institution.objects.create(operator=operator, site=site, name=name or slug.title(), slug=slug)
    return ensure_staff_groups(institution)
