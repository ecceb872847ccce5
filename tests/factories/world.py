"""The `world` fixture's cast: two institutions, an offer, staff, a holder, a stranger, a superuser."""

from tests.factories.institutions import make_institution
from tests.factories.offers import make_offer, require_sections
from tests.factories.people import make_user


def make_world():
    """Two institutions, an offer, its staff, a holder, a stranger and a superuser (the `world` fixture)."""
    from types import SimpleNamespace

    kita = make_institution("kita", hostname="kita.test")
    other = make_institution("bbz", hostname="bbz.test")
    offer = make_offer(kita, "Krippenplatz", capacity=10)
    require_sections(offer)
    return SimpleNamespace(
        kita=kita, other=other, offer=offer,
        holder=make_user("eltern@example.org"),
        staff=make_user("leitung@kita.test", person=False, groups=[kita.lead_group]),
        caseworker=make_user("sachbearbeitung@kita.test", person=False, groups=[kita.staff_group]),
        other_staff=make_user("leitung@bbz.test", person=False, groups=[other.lead_group]),
        stranger=make_user("fremd@example.org"),
        superuser=make_user("admin@example.org", person=False, superuser=True),
    )
