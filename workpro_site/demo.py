"""Demo data of the embedded installation: an operator, two institutions, staff.

Idempotent: running it again updates what exists and creates what is missing.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.core.files.images import ImageFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from wagtail.images import get_image_model
from wagtail.models import Collection, Page, Site

from home.models import HomePage
from workpro_plugin.lib.help_text import DEFAULT_HELP_HTML
from workpro_plugin.models import (
    ApplicationSection,
    Document,
    FeeBracket,
    FeeSchedule,
    HelpPage,
    Institution,
    OfferCategory,
    OfferIndexPage,
    OfferPage,
    OfferSection,
    Operator,
    Person,
)
from workpro_plugin.models.offer_taxonomy import ensure_default_taxonomy
from workpro_plugin.services import documents, pades, signatures
from workpro_plugin.services.institutions import ensure_staff_groups, revoke_default_group_rights
from workpro_site.demo_allocation import ensure_allocation_demo
from workpro_site.demo_dates import years_before
from workpro_site.demo_questions import DEMO_OMITTED, DEMO_QUESTIONS, answer_demo_questions
from workpro_site.models import DemoObject

SUPERUSER = ("admin@workpro.localhost", "Demo-Admin-2026")
# An account holder to try "Mein Konto" and "Neues Passwort anfordern" with.
DEMO_PARENT = {
    "email": "eltern@example.org", "password": "Demo-Eltern-2026", "last_name": "Beispiel",
    "first_name": "Maria", "date_of_birth": date(1988, 5, 17), "mobile": "+4915112345678",
    "street": "Gartenweg 3", "postcode": "04109", "city": "Leipzig",
}


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
    lead_email: str
    colour: str
    contract_prefix: str


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
        lead_email="leitung@kita-sonnenschein.example",
        colour="#f2a900",
        contract_prefix="KITA",
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
        lead_email="leitung@bbz-nord.example",
        colour="#0b5394",
        contract_prefix="BBZ",
    ),
    # A second KiTa of the same operator: its Krippen are full and run the Platzvergabe.
    # Browsers resolve every *.localhost name to this machine, so no /etc/hosts entry is needed.
    DemoInstitution(
        slug="kita-regenbogen",
        name="KiTa Regenbogen",
        kind=Institution.Kind.KITA,
        hostname="regenbogen.localhost",
        is_default_site=False,
        street="Auenweg 4",
        postcode="04105",
        city="Leipzig",
        phone="0341 777888-0",
        email="info@kita-regenbogen.example",
        contact_person="Frau Aylin Demir",
        intro=(
            "<p>Die KiTa Regenbogen betreut Kinder unter drei Jahren in zwei Krippengruppen. "
            "Unsere Plätze vergeben wir einmal im Jahr nach einem veröffentlichten Kriterienkatalog: "
            "reihen Sie Ihre Wünsche unter <b>Mein Konto</b>.</p>"
        ),
        staff_email="mitarbeiter@kita-regenbogen.example",
        staff_password="Demo-Regenbogen-2026",
        lead_email="leitung@kita-regenbogen.example",
        colour="#7b3fa0",
        contract_prefix="RGB",
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

S = ApplicationSection
KITA_FEES = {
    "name": "Elternbeiträge KiTa (Sachsen)", "period": "monatlich", "maximum": "420.00",
    "notes": "Zzgl. Verpflegungsgeld. Geschwisterermäßigung auf Antrag.",
    "brackets": [(0, 20000, "0.00", "250.00"), (20000, 35000, "150.00", "150.00"),
                 (35000, 50000, "260.00", "80.00"), (50000, 75000, "340.00", None), (75000, None, "420.00", None)],
}
HORT_FEES = {
    "name": "Elternbeiträge Hort", "period": "monatlich", "maximum": "180.00",
    "brackets": [(0, 25000, "40.00", "60.00"), (25000, 50000, "110.00", None), (50000, None, "180.00", None)],
}
DEMO_OFFERS = {
    "kita-sonnenschein": [
        {"slug": "krippenplatz", "title": "Krippenplatz", "fees": KITA_FEES,
         "image": ("Krippe im Garten", "Gezeichnetes Krippenhaus mit Garten, Sandkasten und Sonne"),
         "text": "Liebevolle Betreuung für Kinder von 1 bis 3 Jahren in kleinen Gruppen mit fester Bezugserzieherin und sanfter Eingewöhnung nach dem Berliner Modell.",
         "facts": [("Gruppengröße", "8 Kinder, 2 Erzieherinnen"), ("Eingewöhnung", "2 bis 4 Wochen"), ("Verpflegung", "Frühstück, Mittag, Vesper")],
         "faq": [("Ab wann kann mein Kind kommen?", "Ab dem vollendeten ersten Lebensjahr, Aufnahme zum Monatsersten."), ("Brauche ich einen Kita-Gutschein?", "Nein, die Anmeldung erfolgt direkt bei uns.")],
         "sections": [(S.GUARDIANS, 1), (S.INCOME, 2), (S.HEALTH, 2)],
         "fields": {"category": "betreuung", "teaser": "Betreuung für Kinder von 1 bis 3 Jahren in kleinen Gruppen.", "location": "Lindenweg 12, Leipzig", "rolling_admission": True, "duration": "bis zum 3. Geburtstag", "schedule": "Mo–Fr 6:30–17:00 Uhr", "capacity": 12, "age_min": 1, "age_max": 2, "interview_required": True, "contract_return_days": 14}},
        {"slug": "kindergartenplatz", "title": "Kindergartenplatz", "fees": KITA_FEES,
         "text": "Spielen, forschen, lernen: unser Kindergarten begleitet Kinder von 3 Jahren bis zum Schuleintritt, mit Vorschulprogramm im letzten Jahr.",
         "facts": [("Gruppengröße", "bis 18 Kinder"), ("Vorschule", "im letzten Kindergartenjahr"), ("Garten", "1.200 m² mit Sandkasten und Hochbeeten")],
         "faq": [("Gibt es Schließzeiten?", "Zwei Wochen im Sommer und zwischen den Jahren."), ("Wird gekocht?", "Ja, täglich frisch in unserer eigenen Küche.")],
         "sections": [(S.GUARDIANS, 1), (S.INCOME, 2), (S.HEALTH, 2)],
         "fields": {"category": "betreuung", "teaser": "Betreuung von 3 Jahren bis zum Schuleintritt, mit Vorschulprogramm.", "location": "Lindenweg 12, Leipzig", "starts_on": (8, 1, 0), "applications_close_on": (6, 30, 0), "duration": "bis zum Schuleintritt", "schedule": "Mo–Fr 6:30–17:00 Uhr", "capacity": 40, "age_min": 3, "age_max": 6, "interview_required": True, "contract_return_days": 14}},
        {"slug": "hortplatz", "title": "Hortplatz", "fees": HORT_FEES,
         "text": "Nach der Schule: Hausaufgabenbetreuung, AGs und Freizeit für Grundschulkinder der Klassen 1 bis 4.",
         "facts": [("Hausaufgabenzeit", "täglich 14:00–15:00 Uhr"), ("AGs", "Fußball, Theater, Forscher")],
         "faq": [("Wie kommt mein Kind von der Schule zum Hort?", "Wir holen die Kinder an der Lindenschule ab.")],
         # A Hort child is asked for its school and class (an own question), not for a degree or a job.
         "sections": [(S.GUARDIANS, 1), (S.INCOME, 2)],
         "fields": {"category": "betreuung", "teaser": "Nachmittagsbetreuung mit Hausaufgabenhilfe für Grundschulkinder.", "location": "Lindenweg 12, Leipzig", "starts_on": (8, 15, 0), "duration": "ein Schuljahr", "schedule": "Mo–Fr bis 17:00 Uhr", "capacity": 25, "age_min": 6, "age_max": 10, "interview_required": False, "contract_return_days": 10}},
        {"slug": "ferienbetreuung", "title": "Ferienbetreuung", "addon_for": ["kindergartenplatz", "hortplatz"],
         "fees": {"name": "Ferienbetreuung pauschal", "period": "einmalig", "maximum": "95.00", "brackets": [(0, None, "95.00", None)]},
         "text": "Eine Woche Ferienprogramm mit Ausflügen, Basteln und Natur, buchbar zu einem bestehenden Kindergarten- oder Hortvertrag.",
         "facts": [("Zeitraum", "jeweils eine Ferienwoche"), ("Ausflüge", "Zoo, Wald, Museum")],
         "faq": [("Kann ich mehrere Wochen buchen?", "Ja, jede Woche wird einzeln gebucht.")],
         "sections": [(S.HEALTH, 1)],
         "fields": {"category": "betreuung", "is_addon": True, "teaser": "Ferienprogramm für Kindergarten- und Hortkinder, wochenweise buchbar.", "location": "KiTa Sonnenschein und Ausflugsziele", "starts_on": (7, 6, 0), "ends_on": (7, 10, 0), "duration": "1 Woche", "schedule": "Mo–Fr 8:00–16:00 Uhr", "capacity": 20, "age_min": 3, "age_max": 10, "interview_required": False, "contract_return_days": 7}},
    ],
    "bbz-nord": [
        {"slug": "ausbildung-fachinformatiker", "title": "Ausbildung Fachinformatiker/in Anwendungsentwicklung",
         "text": "Dreijährige duale Ausbildung mit Praxisphasen in Leipziger IT-Unternehmen und Abschluss vor der IHK.",
         "facts": [("Abschluss", "IHK-Prüfung"), ("Praxisanteil", "60 %"), ("Voraussetzung", "Realschulabschluss oder Abitur")],
         "faq": [("Erhalte ich eine Vergütung?", "Ja, nach Tarif des Ausbildungsbetriebs."), ("Gibt es ein Auswahlgespräch?", "Ja, mit einem kurzen Eignungstest.")],
         "sections": [(S.EDUCATION, 1), (S.UPLOADS, 1), (S.GUARDIANS, 1)],
         "fields": {"category": "ausbildung", "teaser": "Duale Ausbildung in 3 Jahren mit IHK-Abschluss.", "location": "Werkstraße 5, Leipzig", "starts_on": (9, 1, 0), "ends_on": (8, 31, 3), "applications_close_on": (7, 31, 0), "duration": "3 Jahre", "schedule": "Vollzeit", "capacity": 20, "age_min": 16, "interview_required": True, "contract_return_days": 14, "required_documents": "Letztes Schulzeugnis\nLebenslauf"}},
        {"slug": "umschulung-pflegefachkraft", "title": "Umschulung Pflegefachfrau/Pflegefachmann",
         "text": "Generalistische Pflegeausbildung als Umschulung, gefördert mit Bildungsgutschein der Agentur für Arbeit.",
         "facts": [("Förderung", "Bildungsgutschein"), ("Praxiseinsätze", "Klinik, Altenpflege, ambulante Pflege")],
         "faq": [("Wer trägt die Kosten?", "Bei Förderung durch die Agentur für Arbeit oder das Jobcenter entstehen Ihnen keine Kosten.")],
         "sections": [(S.EDUCATION, 1), (S.UPLOADS, 1), (S.HEALTH, 2)],
         "fields": {"category": "umschulung", "teaser": "Umschulung in 2 Jahren, förderfähig mit Bildungsgutschein.", "location": "Werkstraße 5, Leipzig", "starts_on": (10, 1, 0), "ends_on": (9, 30, 2), "duration": "2 Jahre", "schedule": "Vollzeit, Mo–Fr 8:00–15:30 Uhr", "capacity": 18, "age_min": 18, "interview_required": True, "contract_return_days": 14, "required_documents": "Bildungsgutschein\nLebenslauf"}},
        {"slug": "sprachkurs-deutsch-b1", "title": "Sprachkurs Deutsch B1",
         "fees": {"name": "Kursgebühr Sprachkurs", "period": "einmalig", "maximum": "640.00", "notes": "Ermäßigung mit Berechtigungsschein.", "brackets": [(0, 15000, "160.00", "480.00"), (15000, None, "640.00", None)]},
         "text": "Intensivkurs zur Vorbereitung auf die Prüfung Deutsch-Test für Zuwanderer (DTZ) B1, mit Einstufungstest.",
         "facts": [("Unterrichtseinheiten", "300"), ("Prüfung", "DTZ B1 inklusive")],
         "faq": [("Wie werde ich eingestuft?", "Mit einem kurzen Test vor Kursbeginn.")],
         "sections": [(S.INCOME, 1)],
         "fields": {"category": "sprachkurs", "teaser": "Intensivkurs mit Prüfung, laufender Einstieg möglich.", "location": "Werkstraße 5, Raum 2.14", "rolling_admission": True, "duration": "4 Monate", "schedule": "Mo–Do 9:00–12:15 Uhr", "capacity": 16, "age_min": 16, "interview_required": False, "contract_return_days": 7}},
        {"slug": "wohnheimplatz", "title": "Wohnheimplatz", "addon_for": ["ausbildung-fachinformatiker", "umschulung-pflegefachkraft"],
         "fees": {"name": "Miete Wohnheim", "period": "monatlich", "maximum": "390.00", "brackets": [(0, 12000, "240.00", "150.00"), (12000, None, "390.00", None)]},
         "text": "Möblierte Einzelzimmer mit Gemeinschaftsküche direkt am Berufsbildungszentrum, buchbar zu einer Ausbildung oder Umschulung.",
         "facts": [("Zimmer", "14 m², möbliert"), ("Internet", "inklusive")],
         "faq": [("Können Minderjährige einziehen?", "Ja, ab 16 Jahren mit Zustimmung der Sorgeberechtigten.")],
         "sections": [(S.INCOME, 1), (S.GUARDIANS, 1)],
         "fields": {"category": "wohnen", "is_addon": True, "teaser": "Möbliertes Einzelzimmer am Campus für Auszubildende.", "location": "Werkstraße 7, Leipzig", "rolling_admission": True, "duration": "für die Dauer der Maßnahme", "capacity": 30, "age_min": 16, "interview_required": False, "contract_return_days": 14}},
    ],
}

DEMO_OFFERS["kita-regenbogen"] = [
    {"slug": "krippe-regenbogenkinder", "title": "Krippe Regenbogenkinder", "fees": KITA_FEES,
     "image": ("Krippe am Auenwald", "Gezeichnetes Krippenhaus am Waldrand unter einem Regenbogen"),
     "text": "Zwölf Kinder von 1 bis 3 Jahren, drei Erzieherinnen, ein großer Garten am Auenwald.",
     "facts": [("Gruppengröße", "12 Kinder"), ("Eingewöhnung", "Berliner Modell")],
     "faq": [("Wie werden die Plätze vergeben?", "Einmal im Jahr nach dem Kriterienkatalog unten; bei gleicher Punktzahl entscheidet das Los.")],
     "sections": [(S.GUARDIANS, 1), (S.INCOME, 2)],
     "fields": {"category": "betreuung", "teaser": "Krippe am Auenwald für Kinder von 1 bis 3 Jahren.", "location": "Auenweg 4, Leipzig", "starts_on": (8, 1, 0), "duration": "bis zum 3. Geburtstag", "schedule": "Mo–Fr 7:00–16:30 Uhr", "capacity": 3, "age_min": 0, "age_max": 2, "interview_required": False, "asks_care_hours": True, "contract_return_days": 14}},
    {"slug": "krippe-wolkenkinder", "title": "Krippe Wolkenkinder", "fees": KITA_FEES,
     "text": "Die kleine Krippengruppe im Obergeschoss: acht Kinder, viel Ruhe.",
     "facts": [("Gruppengröße", "8 Kinder")],
     "faq": [("Wie werden die Plätze vergeben?", "Gemeinsam mit der Krippe Regenbogenkinder nach demselben Kriterienkatalog.")],
     "sections": [(S.GUARDIANS, 1), (S.INCOME, 2)],
     "fields": {"category": "betreuung", "teaser": "Kleine Krippengruppe für Kinder von 1 bis 3 Jahren.", "location": "Auenweg 4, Leipzig", "starts_on": (8, 1, 0), "duration": "bis zum 3. Geburtstag", "schedule": "Mo–Fr 7:00–15:00 Uhr", "capacity": 2, "age_min": 0, "age_max": 2, "interview_required": False, "contract_return_days": 14}},
]

# Anwendungen von WorkPro-Action: (name, description, launch URL, terms, offer slug it is assigned to).
APP_TERMS = (
    "1. Die Anwendung steht nur Teilnehmern der Einrichtung für die Dauer ihres Vertrags zur Verfügung.\n"
    "2. Zugangsdaten sind persönlich und dürfen nicht weitergegeben werden.\n"
    "3. Die Einrichtung verarbeitet dabei nur die Daten, die für die Nutzung nötig sind "
    "(Name, Kundennummer, Nutzungszeiten).\n"
    "4. Die Einrichtung kann die Anwendung jederzeit entziehen."
)
# Textbausteine for the staff chat: (title, text, offer slug or None for all offers).
DEMO_CANNED_REPLIES = {
    "kita-sonnenschein": [
        ("Danke für die Anfrage", "Hallo {vorname} {name},\n\nvielen Dank für Ihre Nachricht zum Angebot "
         "„{angebot}“. Wir melden uns innerhalb von zwei Werktagen bei Ihnen.\n\nViele Grüße\n{einrichtung}", None),
        ("Eingewöhnung", "Hallo {vorname} {name},\n\ndie Eingewöhnung beginnt mit einer Stunde am Vormittag; "
         "bitte planen Sie dafür die ersten zwei Wochen ein.\n\nViele Grüße\n{einrichtung}", "kindergartenplatz"),
    ],
}

DEMO_APPS = {
    "kita-sonnenschein": [
        ("Kita-Info", "Neuigkeiten aus der Gruppe, Speiseplan und Termine für Eltern.",
         "https://info.kita-sonnenschein.example/", APP_TERMS, "kindergartenplatz"),
        ("Bibliothek", "Kinderbücher und Hörspiele ausleihen und vormerken.",
         "https://bibliothek.kita-sonnenschein.example/", APP_TERMS, "hortplatz"),
    ],
    "bbz-nord": [
        ("Lernplattform", "Kursräume, Lernmaterial, Aufgaben und Noten der Ausbildung.",
         "https://lernen.bbz-nord.example/", APP_TERMS, "ausbildung-fachinformatiker"),
        ("Bibliothek", "Fachbücher und E-Books ausleihen, auch von zu Hause.",
         "https://bibliothek.bbz-nord.example/", APP_TERMS, "umschulung-pflegefachkraft"),
    ],
}



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


def _offer_picture_png(colour: str, rainbow: bool) -> bytes:
    """A drawn 1600x900 picture for a demo offer: a house in a garden (a real one would be a photo)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (1600, 900), "#bfe3f5")
    draw = ImageDraw.Draw(image)
    if rainbow:
        for step, band in enumerate(("#e53935", "#fb8c00", "#fdd835", "#43a047", "#1e88e5", "#8e24aa")):
            inset = step * 36
            draw.arc((150 + inset, 120 + inset, 1450 - inset, 1420 - inset), 180, 360, fill=band, width=36)
    else:
        draw.ellipse((1240, 90, 1440, 290), fill="#fdd835")
    draw.ellipse((-300, 600, 1900, 1400), fill="#7cb342")
    draw.rectangle((560, 400, 1040, 720), fill="#fff8e1", outline="#5d4037", width=8)
    draw.polygon([(520, 410), (800, 220), (1080, 410)], fill=colour)
    draw.rectangle((760, 560, 860, 720), fill="#8d6e63")
    for left in (610, 900):
        draw.rectangle((left, 460, left + 90, 540), fill="#81d4fa", outline="#5d4037", width=6)
    draw.rectangle((180, 740, 420, 800), fill="#ffe082")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _offer_picture(institution: Institution, colour: str, title: str, alt: str):
    """The image block of a demo offer's body: the picture with its alt text."""
    ImageModel = get_image_model()
    collection = Collection.objects.filter(name=institution.name).first() or Collection.get_first_root_node()
    image = ImageModel(title=title, collection=collection)
    picture = _offer_picture_png(colour, rainbow="Regenbogen" in institution.name)
    image.file = ImageFile(io.BytesIO(picture), name=f"angebot-{institution.slug}.png")
    image.save()
    image.contextual_alt_text, image.decorative = alt, False
    return ("image", image)


def _keyed(key: str, model, find, create):
    """The demo's row for `key`: the one recorded under it, else an older demo's found by `find()`, else new.

    Returns (row, created). A row deleted through the UI is made again; a changed one is kept as it is.
    """
    record = DemoObject.objects.filter(key=key).first()
    if record is not None:
        row = model.objects.filter(pk=record.object_id).first()
        if row is not None:
            return row, False
    row = find()
    created = row is None
    if created:
        row = create()
    DemoObject.objects.update_or_create(key=key, defaults={
        "content_type": ContentType.objects.get_for_model(model, for_concrete_model=False), "object_id": row.pk})
    return row, created


def _remove_wagtail_welcome_page(root: Page) -> None:
    """`wagtail start` style installs come with a plain "Welcome" page; the demo replaces it."""
    for page in root.get_children().filter(content_type__model="page", content_type__app_label="wagtailcore"):
        Site.objects.filter(root_page=page).delete()
        page.delete()


def _ensure_homepage(root: Page, spec: DemoInstitution) -> HomePage:
    def create():
        home = HomePage(title=spec.name, slug=spec.slug, intro=spec.intro)
        root.add_child(instance=home)
        home.save_revision().publish()
        return home

    return _keyed(f"home:{spec.slug}", HomePage, lambda: HomePage.objects.filter(slug=spec.slug).first(), create)[0]


def _ensure_child(parent: Page, model, slug: str, **fields) -> Page:
    def create():
        page = model(slug=slug, **fields)
        parent.add_child(instance=page)
        page.save_revision().publish()
        return page

    return _keyed(f"{model._meta.model_name}:{parent.pk}:{slug}", model,
                  lambda: model.objects.child_of(parent).filter(slug=slug).first(), create)[0]


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


def _ensure_user(email: str, password: str, **fields):
    """The demo account first made for `email`; one whose address was changed since keeps the new one."""
    User = get_user_model()
    user, created = _keyed(f"user:{email}", User, lambda: User.objects.filter(username=email).first(),
                           lambda: User.objects.create(username=email, email=email, **fields))
    for key, value in fields.items():
        setattr(user, key, value)
    if created:
        user.email = email
    user.set_password(password)
    user.save()
    return user


def _demo_row(key: str, model):
    record = DemoObject.objects.filter(key=key).first()
    return model.objects.filter(pk=record.object_id).first() if record else None


def demo_login(email: str) -> str:
    """The current login of a demo account (it may have been changed in "Meine Daten")."""
    record = DemoObject.objects.filter(key=f"user:{email}").first()
    user = get_user_model().objects.filter(pk=record.object_id).first() if record else None
    return user.get_username() if user is not None else email


def demo_offer(slug: str) -> OfferPage:
    record = DemoObject.objects.filter(key__startswith="offer:", key__endswith=f":{slug}").first()
    offer = OfferPage.objects.filter(pk=record.object_id).first() if record else None
    return offer or OfferPage.objects.get(slug=slug)


def _ensure_fee_schedule(institution: Institution, spec: dict) -> FeeSchedule:
    schedule, created = FeeSchedule.objects.get_or_create(
        name=spec["name"], institution=institution,
        defaults={"billing_period": spec["period"], "maximum_rate": Decimal(spec["maximum"]), "notes": spec.get("notes", "")},
    )
    if created:
        for income_from, income_to, amount, subsidy in spec["brackets"]:
            FeeBracket.objects.create(
                schedule=schedule, income_from=Decimal(income_from),
                income_to=Decimal(income_to) if income_to is not None else None,
                amount=Decimal(amount), subsidy=Decimal(subsidy) if subsidy is not None else None,
            )
    return schedule


def _ensure_offers(institution: Institution, offer_index: OfferIndexPage, colour: str = "#f2a900") -> None:
    today = timezone.localdate()
    year = today.year + (1 if today.month >= 8 else 0)
    created: dict[str, OfferPage] = {}
    for spec in DEMO_OFFERS[institution.slug]:
        demo_key = f"offer:{institution.slug}:{spec['slug']}"
        record = DemoObject.objects.filter(key=demo_key).first()
        existing = OfferPage.objects.filter(pk=record.object_id).first() if record else None
        existing = existing or OfferPage.objects.child_of(offer_index).filter(slug=spec["slug"]).first()
        if existing is not None:
            _keyed(demo_key, OfferPage, lambda: existing, None)
            created[spec["slug"]] = existing
            continue
        fields = dict(spec["fields"])
        # Offers starting before August belong to the next summer once their start has passed
        # (the July holiday week would otherwise lie behind us from mid-July on).
        offer_year = year
        if fields.get("starts_on"):
            month, day, year_offset = fields["starts_on"]
            offer_year += 1 if date(year + year_offset, month, day) < today else 0
        for key in ("starts_on", "ends_on", "applications_close_on"):
            if key in fields and fields[key] is not None:
                month, day, year_offset = fields[key]
                fields[key] = date(offer_year + year_offset, month, day)
        schedule = _ensure_fee_schedule(institution, spec["fees"]) if spec.get("fees") else None
        # One offer per institution shows a picture: its link preview uses it (og:image).
        picture = [_offer_picture(institution, colour, *spec["image"])] if spec.get("image") else []
        ensure_default_taxonomy()
        fields["category"] = OfferCategory.objects.for_institution(institution).filter(
            slug=fields["category"]).order_by(F("institution").desc(nulls_last=True)).first()
        offer = OfferPage(
            title=spec["title"], slug=spec["slug"], fee_schedule=schedule,
            body=[("text", f"<p>{spec['text']}</p>"), *picture,
                  ("facts", {"heading": "Eckdaten", "facts": [{"label": k, "value": v} for k, v in spec["facts"]]}),
                  ("faq", {"heading": "Häufige Fragen", "items": [{"question": q, "answer": f"<p>{a}</p>"} for q, a in spec["faq"]]})],
            contact_name=institution.contact_person, contact_email=institution.email,
            contact_phone=institution.phone, questions=DEMO_QUESTIONS.get(spec["slug"], []),
            **{"omitted_questions": DEMO_OMITTED.get(spec["slug"], ""), **fields},
        )
        for position, (section, phase) in enumerate(spec["sections"]):
            offer.application_sections.add(OfferSection(section=section, phase=phase, sort_order=position))
        offer_index.add_child(instance=offer)
        if spec.get("addon_for"):
            offer.addon_for.set([created[slug] for slug in spec["addon_for"]])
        offer.save_revision().publish()
        _keyed(demo_key, OfferPage, lambda: offer, None)
        created[spec["slug"]] = offer


@transaction.atomic
def load_demo(*, port: int = 8000, progress=lambda step: None) -> DemoResult:
    """`progress(step)` is called before each larger step, for the console of `make run`."""
    operator, _ = Operator.objects.update_or_create(name=OPERATOR["name"], defaults=OPERATOR)
    root = Page.get_first_root_node()
    _remove_wagtail_welcome_page(root)
    root_collection = Collection.get_first_root_node()
    ImageModel = get_image_model()

    for spec in INSTITUTIONS:
        progress(f"Einrichtung {spec.name}: Seiten, Angebote, Mitarbeiter")
        home = _ensure_homepage(root, spec)
        site = _ensure_site(home, spec, port)
        offer_index = _ensure_child(
            home, OfferIndexPage, "angebote", title="Angebote",
            intro="<p>Hier finden Sie alle Angebote. Wählen Sie ein Angebot aus und registrieren Sie sich direkt.</p>",
        )
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
                "contract_number_prefix": spec.contract_prefix,
            },
        )
        if institution.logo_id is None:
            initials = "".join(word[0] for word in spec.name.split()[:2]).upper()
            logo = ImageModel(title=f"Logo {spec.name}", collection=collection)
            logo.file = ImageFile(io.BytesIO(_logo_png(initials, spec.colour)), name=f"logo-{spec.slug}.png")
            logo.save()
            institution.logo = logo

        institution.save()
        _ensure_signing_key(institution)
        ensure_staff_groups(institution, collection=collection)
        _ensure_offers(institution, offer_index, spec.colour)
        _ensure_apps(institution, offer_index)
        _ensure_canned_replies(institution, offer_index)
        staff = _ensure_user(spec.staff_email, spec.staff_password, first_name="Demo",
                             last_name=f"Sachbearbeitung {spec.name}", is_staff=False, is_superuser=False)
        staff.groups.add(institution.staff_group)
        lead = _ensure_user(spec.lead_email, spec.staff_password, first_name="Demo",
                            last_name=f"Leitung {spec.name}", is_staff=False, is_superuser=False)
        lead.groups.add(institution.lead_group)

    # Wagtail's default Editors and Moderators groups may edit every page of both institutions:
    # staff work in their institution's own groups (system check workpro.W010).
    revoke_default_group_rights()
    _ensure_user(
        SUPERUSER[0], SUPERUSER[1], first_name="Demo", last_name="Administrator",
        is_staff=True, is_superuser=True,
    )
    parent_fields = {k: v for k, v in DEMO_PARENT.items() if k not in ("email", "password")}
    parent = _ensure_user(DEMO_PARENT["email"], DEMO_PARENT["password"],
                          first_name=DEMO_PARENT["first_name"], last_name=DEMO_PARENT["last_name"])
    # Data the parent changed in "Meine Daten" stay as they are; only a missing person is made again.
    person = Person.objects.filter(user=parent).first()
    if person is None:
        Person.objects.create(user=parent, **parent_fields, email=DEMO_PARENT["email"], must_set_password=False)
    elif person.must_set_password:
        Person.objects.filter(pk=person.pk).update(must_set_password=False)
    progress("Demo-Familie Beispiel (Lena: Bewerbung, Paul: ratifizierter Vertrag)")
    _ensure_demo_application(parent)
    _ensure_demo_contract(parent)
    ensure_allocation_demo(parent)
    return DemoResult(port=port, institutions=INSTITUTIONS, superuser=SUPERUSER)


def _demo_ca() -> pades.DemoCA | None:
    """The demo's self-signed CA in settings.SIGNING_DEMO_DIR (git-ignored), created once and kept, so
    documents signed in an earlier run still validate."""
    directory = getattr(settings, "SIGNING_DEMO_DIR", None)
    if directory is None:
        return None
    directory = Path(directory)
    certificate_path, key_path = directory / "demo-ca.pem", directory / "demo-ca.key.pem"
    if certificate_path.exists() and key_path.exists():
        pem = certificate_path.read_bytes()
        return pades.DemoCA(pem, serialization.load_pem_private_key(key_path.read_bytes(), password=None),
                                 x509.load_pem_x509_certificate(pem))
    ca = pades.demo_ca()
    directory.mkdir(parents=True, exist_ok=True)
    key_path.write_bytes(ca.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()))
    key_path.chmod(0o600)
    certificate_path.write_bytes(ca.certificate_pem)
    return ca


def _ensure_signing_key(institution: Institution) -> None:
    """A signing key for the institution, issued by the demo CA, in private storage; its password is
    the environment's (settings/dev.py sets a demo default). Kept when it still opens."""
    if signatures.can_sign(institution):
        return
    ca = _demo_ca()
    password = next((os.environ[name] for name in signatures.password_env_names(institution)
                     if os.environ.get(name)), None)
    if ca is None or password is None:
        return  # the demo then shows what production shows without a key: unsigned documents
    data = pades.demo_pkcs12(ca, common_name=institution.name, organisation=institution.operator.name,
                                  password=password.encode())
    institution.signing_certificate.save(f"{institution.slug}-demo.p12", ContentFile(data), save=True)


def _ensure_apps(institution: Institution, offer_index: OfferIndexPage) -> None:
    """The institution's demo apps, each assigned once to an offer (a revoked assignment stays revoked)."""
    from workpro_plugin.models import App, AppAssignment

    for name, description, url, terms, offer_slug in DEMO_APPS.get(institution.slug, []):
        app, _ = App.objects.update_or_create(institution=institution, name=name, defaults={
            "description": description, "launch_url": url, "terms": terms})
        offer = demo_offer(offer_slug) if offer_slug else None
        if offer is not None and not AppAssignment.objects.filter(app=app, offer=offer).exists():
            AppAssignment.objects.create(app=app, offer=offer)


def _ensure_canned_replies(institution: Institution, offer_index: OfferIndexPage) -> None:
    from workpro_plugin.models import CannedReply

    for title, body, offer_slug in DEMO_CANNED_REPLIES.get(institution.slug, []):
        offer = demo_offer(offer_slug) if offer_slug else None
        CannedReply.objects.get_or_create(institution=institution, title=title, defaults={"body": body, "offer": offer})


def _ensure_demo_application(parent) -> None:
    """A child of the demo parent who has applied for a Krippenplatz (status Bewerber)."""
    from workpro_plugin.models import Enrollment, EnrollmentSection, Guardian
    from workpro_plugin.services import enrollments as svc

    if _demo_row("enrollment:lena", Enrollment) is not None:
        return
    if (older := Enrollment.objects.filter(account_holder=parent, offer__slug="krippenplatz").first()) is not None:
        _keyed("enrollment:lena", Enrollment, lambda: older, None)  # made by a demo before the keys
        return
    holder = parent.workpro_person
    today = timezone.localdate()
    child = Person.objects.create(last_name="Beispiel", first_name="Lena", date_of_birth=years_before(today, 2),
                                  street=holder.street, postcode=holder.postcode, city=holder.city)
    Guardian.objects.create(participant=child, guardian=holder, relation="mutter", is_primary=True)
    enrollment = svc.enrollment_start(offer=demo_offer("krippenplatz"), participant=child, by=parent)
    _keyed("enrollment:lena", Enrollment, lambda: enrollment, None)
    EnrollmentSection.objects.create(enrollment=enrollment, section="personal", is_complete=True, data={
        "last_name": child.last_name, "first_name": child.first_name, "date_of_birth": child.date_of_birth.isoformat(),
        "street": child.street, "postcode": child.postcode, "city": child.city, "email": "", "mobile": ""})
    EnrollmentSection.objects.create(enrollment=enrollment, section="guardians", is_complete=True,
                                     data={"guardians": []})
    answer_demo_questions(enrollment, parent, phase=1)
    svc.enrollment_mark_printed(enrollment=enrollment, by=parent)
    svc.enrollment_submit(enrollment=enrollment, by=parent)
    _render_now(enrollment)


def _render_now(enrollment) -> None:
    """The demo is loaded in one transaction: its PDFs are rendered here instead of after its commit
    (the render task, run later for the same rows, finds them ready and does nothing)."""
    for pk in enrollment.documents.filter(state=Document.State.PENDING).values_list("pk", flat=True):
        documents.render_document(pk)


def _ensure_demo_contract(parent) -> None:
    """Paul, the demo parent's second child: a ratified contract for the Kindergartenplatz that starts
    in 10 days, gone through the same services as a real one (so every document exists). The portal
    then asks for Notfallkontakt and Abholberechtigte, offers "Ferienbetreuung" and the offer's apps,
    and a welcome message from the KiTa waits unread."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from workpro_plugin.models import Enrollment, Guardian
    from workpro_plugin.services import applications, chat
    from workpro_plugin.services import enrollments as svc

    holder = parent.workpro_person
    if _demo_row("enrollment:paul", Enrollment) is not None:
        return
    older = Enrollment.objects.filter(account_holder=parent, participant__guardianships__guardian=holder,
                                      participant__first_name="Paul", offer__slug="kindergartenplatz").first()
    if older is not None:
        _keyed("enrollment:paul", Enrollment, lambda: older, None)  # made by a demo before the keys
        return
    User = get_user_model()
    kita = INSTITUTIONS[0]
    caseworker = User.objects.get(username=kita.staff_email)
    lead = User.objects.get(username=kita.lead_email)
    offer = demo_offer("kindergartenplatz")
    today = timezone.localdate()

    def new_paul():
        paul = Person.objects.create(last_name="Beispiel", first_name="Paul", date_of_birth=years_before(today, 4),
                                     street=holder.street, postcode=holder.postcode, city=holder.city)
        Guardian.objects.create(participant=paul, guardian=holder, relation="mutter", is_primary=True)
        return paul

    paul, _created = _keyed("person:paul", Person, lambda: Person.objects.filter(
        guardianships__guardian=holder, first_name="Paul").first(), new_paul)
    # The interest is recorded like enrollment_begin does, without its registration-period check:
    # the demo's application deadline may have passed on the day the demo is loaded.
    enrollment = Enrollment.objects.create(offer=offer, institution=offer.get_institution(), account_holder=parent)
    svc.log(enrollment, action="registered", by=parent)
    enrollment = svc.enrollment_enroll_participant(enrollment=enrollment, participant=paul, by=parent)
    _keyed("enrollment:paul", Enrollment, lambda: enrollment, None)

    def save(section: str, data: dict) -> None:
        applications.section_save(enrollment=enrollment, by=parent, section=section, data=data, is_complete=True)

    save("personal", {"last_name": paul.last_name, "first_name": paul.first_name,
                      "date_of_birth": paul.date_of_birth.isoformat(), "street": paul.street,
                      "postcode": paul.postcode, "city": paul.city, "email": "", "mobile": ""})
    save("guardians", {"guardians": []})
    answer_demo_questions(enrollment, parent, phase=1)
    svc.enrollment_mark_printed(enrollment=enrollment, by=parent)
    svc.enrollment_submit(enrollment=enrollment, by=parent)
    interview = timezone.make_aware(datetime.combine(today - timedelta(days=21), time(10, 0)))
    svc.enrollment_invite(enrollment=enrollment, by=caseworker, at=interview, place="KiTa Sonnenschein, Büro")
    enrollment = svc.enrollment_decide(enrollment=enrollment, by=caseworker, accept=True,
                                       basis=Enrollment.Basis.ATTENDED)
    save("income", {"earners": [{"name": f"{holder.first_name} {holder.last_name}", "relation": "Mutter",
                                 "annual_income": "42000.00"}]})
    save("health", {"medication": "", "diet": "vegetarisch", "notes": "", "confirmed": True})
    answer_demo_questions(enrollment, parent, phase=2)
    svc.enrollment_mark_printed(enrollment=enrollment, by=parent)
    enrollment = svc.enrollment_submit(enrollment=enrollment, by=parent)  # Kandidat: classify
    start = today + timedelta(days=10)
    enrollment = svc.enrollment_make_offer(enrollment=enrollment, by=lead, costs=enrollment.computed_fee().amount,
                                           contract_start=start, contract_end=date(start.year + 2, 7, 31))
    _render_now(enrollment)
    # The parent prints the offer, signs it and uploads the scan: here the offer PDF itself.
    offer_pdf = enrollment.documents.get(kind="contract_offer")
    with offer_pdf.file.open("rb") as handle:
        signed = SimpleUploadedFile("angebot-unterschrieben.pdf", handle.read(), content_type="application/pdf")
    svc.enrollment_upload_signed(enrollment=enrollment, by=parent, files=[signed])
    enrollment = svc.enrollment_ratify(enrollment=enrollment, by=lead)
    _render_now(enrollment)

    conversation = chat.conversation_for_enrollment(enrollment=enrollment, by=caseworker)
    chat.message_post(conversation=conversation, by=caseworker, as_staff=True, body=(
        "Willkommen in der KiTa Sonnenschein, liebe Familie Beispiel! Pauls Vertrag ist ratifiziert. "
        "Bitte tragen Sie vor dem ersten Tag noch Notfallkontakt und Abholberechtigte ein. "
        "Bei Fragen schreiben Sie uns gern hier."))
