"""Demo data of the embedded installation: an operator, two institutions, staff.

Idempotent: running it again updates what exists and creates what is missing.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.files.images import ImageFile
from django.db import transaction
from wagtail.images import get_image_model
from wagtail.models import Collection, GroupCollectionPermission, GroupPagePermission, Page, Site

from home.models import HomePage
from workpro_plugin.help_text import DEFAULT_HELP_HTML
from workpro_plugin.models import HelpPage, Institution, OfferIndexPage, Operator

SUPERUSER = ("admin@workpro.localhost", "Demo-Admin-2026")


@dataclass(frozen=True)
class DemoInstitution:
    slug: str
    name: str
    kind: str
    hostname: str
    is_default_site: bool
    street: str
    postcode: str
    city: str
    phone: str
    email: str
    contact_person: str
    intro: str
    staff_email: str
    staff_password: str
    colour: str


INSTITUTIONS = [
    DemoInstitution(
        slug="kita-sonnenschein",
        name="KiTa Sonnenschein",
        kind=Institution.Kind.KITA,
        hostname="127.0.0.1",
        is_default_site=True,
        street="Lindenweg 12",
        postcode="04109",
        city="Leipzig",
        phone="0341 123456-0",
        email="info@kita-sonnenschein.example",
        contact_person="Frau Petra Sommer",
        intro=(
            "<p>Willkommen in der KiTa Sonnenschein! Wir betreuen Kinder von 1 bis 6 Jahren "
            "in vier Gruppen. Unter <b>Angebote</b> finden Sie unsere Betreuungsangebote, "
            "unter <b>Mein Konto</b> verwalten Sie Ihre Anmeldungen und Verträge.</p>"
        ),
        staff_email="mitarbeiter@kita-sonnenschein.example",
        staff_password="Demo-Kita-2026",
        colour="#f2a900",
    ),
    DemoInstitution(
        slug="bbz-nord",
        name="Berufsbildungszentrum Nord",
        kind=Institution.Kind.BERUFSBILDUNGSZENTRUM,
        hostname="localhost",
        is_default_site=False,
        street="Werkstraße 5",
        postcode="04129",
        city="Leipzig",
        phone="0341 654321-0",
        email="info@bbz-nord.example",
        contact_person="Herr Jonas Keller",
        intro=(
            "<p>Das Berufsbildungszentrum Nord bietet Ausbildungen, Umschulungen und "
            "Weiterbildungen in Handwerk, Pflege und IT. Informieren Sie sich unter "
            "<b>Angebote</b> und registrieren Sie sich direkt beim Angebot.</p>"
        ),
        staff_email="mitarbeiter@bbz-nord.example",
        staff_password="Demo-BBZ-2026",
        colour="#0b5394",
    ),
]

OPERATOR = {
    "name": "ASG GmbH",
    "street": "Hauptstraße 1",
    "postcode": "04109",
    "city": "Leipzig",
    "phone": "0341 000000",
    "email": "kontakt@asg.example",
    "website": "https://www.asg-kunden.de",
}

STAFF_PAGE_PERMISSIONS = ("add_page", "change_page", "publish_page")
STAFF_COLLECTION_PERMISSIONS = (
    ("wagtailimages", "add_image"),
    ("wagtailimages", "change_image"),
    ("wagtailimages", "choose_image"),
    ("wagtaildocs", "add_document"),
    ("wagtaildocs", "change_document"),
    ("wagtaildocs", "choose_document"),
)


@dataclass
class DemoResult:
    port: int
    institutions: list[DemoInstitution]
    superuser: tuple[str, str]


def _logo_png(text: str, colour: str) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (192, 192), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((4, 4, 188, 188), fill=colour)
    draw.text((96, 96), text, fill="white", anchor="mm", font_size=72)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _remove_wagtail_welcome_page(root: Page) -> None:
    """`wagtail start` style installs come with a plain "Welcome" page; the demo replaces it."""
    for page in root.get_children().filter(content_type__model="page", content_type__app_label="wagtailcore"):
        Site.objects.filter(root_page=page).delete()
        page.delete()


def _ensure_homepage(root: Page, spec: DemoInstitution) -> HomePage:
    home = HomePage.objects.filter(slug=spec.slug).first()
    if home is None:
        home = HomePage(title=spec.name, slug=spec.slug, intro=spec.intro)
        root.add_child(instance=home)
        home.save_revision().publish()
    return home


def _ensure_child(parent: Page, model, slug: str, **fields) -> Page:
    page = model.objects.child_of(parent).filter(slug=slug).first()
    if page is None:
        page = model(slug=slug, **fields)
        parent.add_child(instance=page)
        page.save_revision().publish()
    return page


def _ensure_site(home: HomePage, spec: DemoInstitution, port: int) -> Site:
    site = Site.objects.filter(root_page=home).first() or Site.objects.filter(
        hostname=spec.hostname, port=port
    ).first()
    if site is None:
        site = Site(root_page=home)
    site.hostname = spec.hostname
    site.port = port
    site.root_page = home
    site.site_name = spec.name
    site.is_default_site = spec.is_default_site
    if spec.is_default_site:
        Site.objects.exclude(pk=site.pk).filter(is_default_site=True).update(is_default_site=False)
    site.save()
    return site


def _ensure_staff_group(institution: Institution, home: HomePage, collection: Collection) -> Group:
    group, _ = Group.objects.get_or_create(name=f"Mitarbeiter {institution.name}")
    group.permissions.add(
        Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin")
    )
    for codename in STAFF_PAGE_PERMISSIONS:
        GroupPagePermission.objects.get_or_create(
            group=group,
            page=home,
            permission=Permission.objects.get(content_type__app_label="wagtailcore", codename=codename),
        )
    for app_label, codename in STAFF_COLLECTION_PERMISSIONS:
        GroupCollectionPermission.objects.get_or_create(
            group=group,
            collection=collection,
            permission=Permission.objects.get(content_type__app_label=app_label, codename=codename),
        )
    return group


def _ensure_user(email: str, password: str, **fields):
    User = get_user_model()
    user, _ = User.objects.get_or_create(username=email, defaults={"email": email, **fields})
    for key, value in fields.items():
        setattr(user, key, value)
    user.email = email
    user.set_password(password)
    user.save()
    return user


@transaction.atomic
def load_demo(*, port: int = 8000) -> DemoResult:
    operator, _ = Operator.objects.update_or_create(name=OPERATOR["name"], defaults=OPERATOR)
    root = Page.get_first_root_node()
    _remove_wagtail_welcome_page(root)
    root_collection = Collection.get_first_root_node()
    ImageModel = get_image_model()

    for spec in INSTITUTIONS:
        home = _ensure_homepage(root, spec)
        site = _ensure_site(home, spec, port)
        _ensure_child(home, OfferIndexPage, "angebote", title="Angebote")
        _ensure_child(home, HelpPage, "hilfe", title="Hinweise zur Bedienung", body=DEFAULT_HELP_HTML)

        collection = root_collection.get_children().filter(name=spec.name).first()
        if collection is None:
            collection = root_collection.add_child(name=spec.name)

        institution, _ = Institution.objects.update_or_create(
            slug=spec.slug,
            defaults={
                "operator": operator,
                "site": site,
                "name": spec.name,
                "kind": spec.kind,
                "street": spec.street,
                "postcode": spec.postcode,
                "city": spec.city,
                "phone": spec.phone,
                "email": spec.email,
                "contact_person": spec.contact_person,
            },
        )
        if institution.logo_id is None:
            initials = "".join(word[0] for word in spec.name.split()[:2]).upper()
            logo = ImageModel(title=f"Logo {spec.name}", collection=collection)
            logo.file = ImageFile(io.BytesIO(_logo_png(initials, spec.colour)), name=f"logo-{spec.slug}.png")
            logo.save()
            institution.logo = logo

        institution.staff_group = _ensure_staff_group(institution, home, collection)
        institution.save()
        staff = _ensure_user(
            spec.staff_email,
            spec.staff_password,
            first_name="Demo",
            last_name=f"Mitarbeiter {spec.name}",
            is_staff=False,
            is_superuser=False,
        )
        staff.groups.add(institution.staff_group)

    _ensure_user(
        SUPERUSER[0], SUPERUSER[1], first_name="Demo", last_name="Administrator",
        is_staff=True, is_superuser=True,
    )
    return DemoResult(port=port, institutions=INSTITUTIONS, superuser=SUPERUSER)
