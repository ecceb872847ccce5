"""Permission matrix (#11): every WorkPro URL × every role × own and foreign objects.

The URLs are collected from the URL resolver (the portal, the documents, the chat and
the WorkPro admin views, modeladmin and snippet views of WorkPro models included), so a
new view fails `test_every_workpro_url_is_classified` until it has a row in RULES.
The expected outcome of a case is derived from the world's ownership facts below (who
holds which contract, who speaks for whom, which institution a staff member works for),
not from the selectors under test.

Outcomes are status codes, with redirects told apart by their target: "login" (the portal
login), "admin_login", "denied" (Wagtail's answer to PermissionDenied: back to the
dashboard), "2fa" (the second-factor pages) and 302 for any other redirect.
Every case runs in its own savepoint, so POSTs leave nothing behind for the next one.
"""

from __future__ import annotations

import copy
import io
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, Callable
from urllib.parse import urlparse

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from PIL import Image
from wagtail.models import GroupPagePermission

from tests.factories import enrollment_in, make_child, make_user, pdf_bytes, require_sections
from tests.helpers import HOST, walk_urls
from tests.security_figures import note
from workpro_plugin.models import (
    AgeGroup,
    AllocationRound,
    App,
    CannedReply,
    Criterion,
    Document,
    EmergencyContact,
    Enrollment,
    FeeBracket,
    FeeSchedule,
    Guardian,
    OfferCategory,
    Operator,
    OutboxMessage,
    PickupPerson,
)
from workpro_plugin.services import addons as addon_svc
from workpro_plugin.services import apps as app_svc
from workpro_plugin.services import audit
from workpro_plugin.services import chat as chat_svc
from workpro_plugin.services.accounts import (
    EmailChangeError,
    account_request_email_change,
    email_change_pending,
)

pytestmark = pytest.mark.django_db
S = Enrollment.Status
HOLDER, PARTICIPANT, GUARDIAN = "holder", "participant", "guardian"


# --- collecting the URLs ------------------------------------------------------------------------

def is_workpro_url(name: str) -> bool:
    namespace, _, url_name = name.rpartition(":")
    return (namespace.split(":")[-1] in ("workpro", "workpro_admin", "workpro_chat")
            or (not namespace and url_name.startswith("workpro_plugin_"))  # modeladmin of WorkPro models
            or namespace.startswith(("wagtailsnippets_workpro_plugin_", "wagtailsnippetchoosers_workpro_plugin_")))


def collect_urls() -> list[str]:
    return sorted({url.name for url in walk_urls() if url.name and is_workpro_url(url.name)})


# --- the world ----------------------------------------------------------------------------------

def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (300, 400), (90, 120, 200)).save(buffer, format="JPEG")
    return buffer.getvalue()


def _pdf_upload(name="brief.pdf"):
    return SimpleUploadedFile(name, pdf_bytes(), content_type="application/pdf")


@dataclass
class World:
    users: dict[str, Any]
    sets: dict[str, SimpleNamespace]  # object sets: a contract and what hangs off it, by key
    speaker: dict[int, str] = field(default_factory=dict)  # person pk -> the role that speaks for them


def _contract_set(w: World, key: str, *, institution, offer, addon, holder, participant, staff_author,
                  portal: dict[str, str], status=S.RATIFIZIERT, care: bool = False, oconv_by: str | None = None,
                  ward=None):
    """A contract with what hangs off it: documents, a conversation with attachments, and for a ratified
    one an add-on booking and an accepted app; `portal` names the roles and their portal relation."""
    today = timezone.localdate()
    enrollment = enrollment_in(status, offer=offer, institution=institution, holder=holder, participant=participant)
    Enrollment.objects.filter(pk=enrollment.pk).update(contract_start=today, contract_end=today + timedelta(days=365))
    enrollment.refresh_from_db()
    s = SimpleNamespace(key=key, institution=institution, offer=offer, addon=addon, enrollment=enrollment,
                        holder=holder, person=participant, ward=ward, portal=portal, staff_author=staff_author,
                        conv=None, member_msg=None, participant_msg=None, staff_msg=None, attachment_doc=None,
                        oconv=None, oconv_msg=None, oconv_starter=None, offer_attachment_doc=None,
                        booking=None, app=None, assignment=None, emergency=None, pickup=None, canned=None,
                        criterion=None, round=None, category=None, age_group=None)
    s.restricted_doc = Document.objects.create(enrollment=enrollment, owner=participant, kind="contract_offer",
                                               title="Angebot", file=ContentFile(pdf_bytes(), name="angebot.pdf"))
    s.participant_doc = Document.objects.create(enrollment=enrollment, owner=participant, kind="invitation",
                                                title="Einladung", file=ContentFile(pdf_bytes(), name="einladung.pdf"))
    if status == S.RATIFIZIERT:
        s.conv = chat_svc.conversation_for_enrollment(enrollment=enrollment, by=holder)
        s.member_msg = chat_svc.message_post(conversation=s.conv, by=holder, body="Frage", upload=_pdf_upload(),
                                             as_staff=False)
        if participant.user_id and participant.user_id != holder.pk:
            s.participant_msg = chat_svc.message_post(conversation=s.conv, by=participant.user, body="Ich auch",
                                                      upload=_pdf_upload(), as_staff=False)
        s.staff_msg = chat_svc.message_post(conversation=s.conv, by=staff_author, body="Antwort",
                                            upload=_pdf_upload(), as_staff=True)
        s.attachment_doc = s.member_msg.attachment
        s.booking = addon_svc.addon_book(enrollment=enrollment, addon=addon, by=holder, consent=True,
                                         starts_on=today + timedelta(days=12), ends_on=today + timedelta(days=16))
        s.app = App.objects.create(institution=institution, name=f"Lernplattform {key}", description="Lernen",
                                   launch_url="https://lernen.example.org/", terms="Keine Weitergabe.")
        s.assignment = app_svc.app_assign(app=s.app, by=staff_author, participant=participant)
        app_svc.app_accept(app=s.app, person=participant, by=participant.user or holder,
                           terms_sha256=s.app.terms_sha256)
        s.canned = CannedReply.objects.create(institution=institution, title=f"Begrüßung {key}",
                                              body="Hallo {vorname}, danke für Ihre Nachricht.")
        s.criterion = Criterion.objects.create(institution=institution, kind="hardship", label=f"Härtefall {key}",
                                               points=30)
        s.category = OfferCategory.objects.create(institution=institution, slug=f"eigen-{key.lower()}",
                                                  name=f"Eigene Kategorie {key}")
        s.age_group = AgeGroup.objects.create(institution=institution, slug=f"eigen-{key.lower()}",
                                              name=f"Eigene Altersgruppe {key}", min_age=1, max_age=3)
        s.round = AllocationRound.objects.create(title=f"Vergaberunde {key}", stichtag=today)
        s.round.offers.set([offer])
    if oconv_by:
        s.oconv_msg = chat_svc.conversation_start_for_offer(offer=offer, by=w.users[oconv_by], body="Plätze?",
                                                            upload=_pdf_upload())
        s.oconv, s.oconv_starter = s.oconv_msg.conversation, oconv_by
        s.offer_attachment_doc = s.oconv_msg.attachment
    if care:
        s.emergency = EmergencyContact.objects.create(enrollment=enrollment, name="Oma Erna", relation="Oma",
                                                      phone="+4930123456")
        s.pickup = PickupPerson.objects.create(enrollment=enrollment, name="Onkel Tom", relation="Onkel",
                                               phone="+4930123457", photo=ContentFile(_jpeg(), name="p.jpg"),
                                               photo_uploaded_at=timezone.now())
    s.outbox = OutboxMessage.objects.create(channel="mail", recipient=holder.email, template="matrix",
                                            institution=institution, person=participant)
    s.audit = audit.record(audit.A.PERSON_VIEWED, actor=staff_author, obj=enrollment, person=participant)
    s.fee_schedule = FeeSchedule.objects.filter(institution=institution).first()
    s.email_token = account_request_email_change(user=holder, new_email=f"neu-{key.lower()}@example.org")
    w.sets[key] = s
    return s


def _addon(make_offer, institution, offer, title):
    today = timezone.localdate()
    schedule = FeeSchedule.objects.create(name=f"Gebühren {institution.name}", institution=institution,
                                          billing_period="einmalig", maximum_rate=Decimal("100.00"))
    FeeBracket.objects.create(schedule=schedule, income_from=0, income_to=None, amount=Decimal("50.00"))
    addon = make_offer(institution, title, is_addon=True, starts_on=today + timedelta(days=10),
                       ends_on=today + timedelta(days=60), fee_schedule=schedule, capacity=5)
    addon.addon_for.add(offer)
    addon.save()
    return addon


def build_world(world, make_offer) -> World:
    today = timezone.localdate()
    years = lambda n, days=0: today.replace(year=today.year - n) - timedelta(days=days)  # noqa: E731
    kita, bbz = world.kita, world.other
    bbz_offer = make_offer(bbz, "Ausbildung", capacity=10)
    require_sections(bbz_offer)
    kita_addon = _addon(make_offer, kita, world.offer, "Ferienbetreuung")
    bbz_addon = _addon(make_offer, bbz, bbz_offer, "Nachhilfe")

    editors = Group.objects.create(name="Redaktion")
    editors.permissions.add(Permission.objects.get(codename="access_admin"))
    for codename in ("add_page", "change_page", "publish_page"):
        GroupPagePermission.objects.create(group=editors, page=kita.site.root_page,
                                           permission=Permission.objects.get(codename=codename,
                                                                             content_type__app_label="wagtailcore"))
    users = {
        "interested": make_user("interessent@example.org"),
        "holder": world.holder,
        "psb1": make_user("psb1@example.org"),
        "former_psb1": make_user("frueher-psb1@example.org"),
        "former_psb1_during": make_user("uebergabe-psb1@example.org"),
        "caseworker": world.caseworker,
        "lead": world.staff,
        "other_staff": world.other_staff,
        "editor": make_user("redaktion@kita.test", person=False, groups=[editors]),
        "superuser": world.superuser,
        "stranger": world.stranger,
    }
    w = World(users=users, sets={})

    # B: a minor with an own login (the participant role); PSB1 holds the contract; a sibling without login.
    child = make_child(users["psb1"], first_name="Lena", date_of_birth=years(14))
    child.user = make_user("lena@example.org", person=False)
    child.save(update_fields=["user"])
    users["participant"] = child.user
    sibling = make_child(users["psb1"], first_name="Paul", date_of_birth=years(4))
    w.speaker.update({child.pk: "participant", sibling.pk: "psb1"})
    _contract_set(w, "B", institution=kita, offer=world.offer, addon=kita_addon, holder=users["psb1"],
                  participant=child, staff_author=users["caseworker"], care=True, oconv_by="psb1", ward=sibling,
                  portal={"psb1": HOLDER, "participant": PARTICIPANT})
    # K: the sibling's application, a candidate filling in phase 2: nothing for Lena to see.
    _contract_set(w, "K", institution=kita, offer=world.offer, addon=kita_addon, holder=users["psb1"],
                  participant=sibling, staff_author=users["caseworker"], status=S.KANDIDAT, portal={"psb1": HOLDER})

    # A: an adult who is participant and account holder.
    me = users["holder"].workpro_person
    w.speaker[me.pk] = "holder"
    _contract_set(w, "A", institution=kita, offer=world.offer, addon=kita_addon, holder=users["holder"],
                  participant=me, staff_author=users["caseworker"], oconv_by="holder", portal={"holder": HOLDER})

    # G and D: participants who came of age, now holding their contract; the former PSB1's 30 days are
    # over (G) or still running (D: reading only).
    for key, role, days_of_age in (("G", "former_psb1", 45), ("D", "former_psb1_during", 10)):
        grown = make_user(f"erwachsen-{key.lower()}@example.org", date_of_birth=years(18, days_of_age))
        person = grown.workpro_person
        type(person).objects.filter(pk=person.pk).update(
            came_of_age_at=timezone.now() - timedelta(days=days_of_age))
        Guardian.objects.create(participant=person, guardian=users[role].workpro_person, is_primary=True,
                                relation="mutter", access_ends_on=today + timedelta(days=30 - days_of_age))
        users[f"grown_{key}"] = grown
        w.speaker[person.pk] = f"grown_{key}"
        _contract_set(w, key, institution=kita, offer=world.offer, addon=kita_addon, holder=grown, participant=person,
                      staff_author=users["caseworker"], care=True,
                      portal={f"grown_{key}": HOLDER, **({role: GUARDIAN} if key == "D" else {})})

    # X: the other institution; a stranger is PSB1 of a child without own login.
    ward = make_child(users["stranger"], first_name="Mia", date_of_birth=years(5))
    w.speaker.update({ward.pk: "stranger", users["stranger"].workpro_person.pk: "stranger"})
    _contract_set(w, "X", institution=bbz, offer=bbz_offer, addon=bbz_addon, holder=users["stranger"],
                  participant=ward, staff_author=users["other_staff"], care=True, oconv_by="stranger", ward=ward,
                  portal={"stranger": HOLDER})

    # I: an interest without a participant yet, and a question about the offer.
    interested = users["interested"]
    w.speaker[interested.workpro_person.pk] = "interested"
    interest = Enrollment.objects.create(offer=world.offer, institution=kita, account_holder=interested,
                                         status=S.INTERESSENT)
    oconv_msg = chat_svc.conversation_start_for_offer(offer=world.offer, by=interested, body="Plätze?",
                                                      upload=_pdf_upload())
    w.sets["I"] = SimpleNamespace(
        key="I", institution=kita, offer=world.offer, addon=None, enrollment=interest, holder=interested,
        person=interested.workpro_person, ward=None, portal={"interested": HOLDER}, staff_author=None,
        conv=None, member_msg=None, participant_msg=None, staff_msg=None, attachment_doc=None,
        oconv=oconv_msg.conversation, oconv_msg=oconv_msg, oconv_starter="interested",
        offer_attachment_doc=oconv_msg.attachment, restricted_doc=None, participant_doc=None, booking=None, app=None,
        assignment=None, emergency=None, pickup=None, outbox=None, audit=None, fee_schedule=None, canned=None,
        email_token=account_request_email_change(user=interested, new_email="neu-i@example.org"))
    return w


# --- roles: whose objects are "own", whose are "other" -----------------------------------------

ROLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # role: (own object sets, other people's object sets)
    "anonymous": ((), ("B",)),
    "interested": (("I",), ("A",)),
    "holder": (("A",), ("B", "X")),
    "psb1": (("B", "K"), ("A", "X")),
    "participant": (("B",), ("A", "X", "K")),
    "former_psb1": (("G",), ("A",)),
    "former_psb1_during": (("D",), ("A",)),
    "caseworker": (("B",), ("X",)),       # Sachbearbeitung of the KiTa
    "lead": (("B",), ("X",)),             # Leitung of the KiTa
    "other_staff": (("X",), ("B",)),      # Leitung of the other institution
    "editor": ((), ("B",)),               # Wagtail editor with page permissions, no WorkPro group
    "superuser": (("B",), ("X",)),
}
STAFF = {  # role: (institutions, may process, may sign)
    "caseworker": ({"kita"}, True, False),
    "lead": ({"kita"}, True, True),
    "other_staff": ({"bbz"}, True, True),
    "superuser": ({"kita", "bbz"}, True, True),
}
ADMIN_ROLES = {*STAFF, "editor"}
LEADS = ("lead", "other_staff", "superuser")


@dataclass
class Ctx:
    """One case: who asks, for which object, and what the world says about their relation."""

    role: str
    w: World
    obj: SimpleNamespace | None
    info: dict
    unverified: bool = False  # staff without the second factor where it is required

    @property
    def user(self):
        return self.w.users.get(self.role)

    @property
    def anon(self) -> bool:
        return self.role == "anonymous"

    @property
    def admin(self) -> bool:
        return self.role in ADMIN_ROLES

    @property
    def superuser(self) -> bool:
        return self.role == "superuser"

    @property
    def has_person(self) -> bool:
        return self.role not in ADMIN_ROLES and not self.anon

    @property
    def portal(self) -> str | None:
        return self.obj.portal.get(self.role) if self.obj is not None else None

    @property
    def staff(self) -> bool:
        """Staff of the object's institution, acting as staff (with the second factor where required)."""
        return (self.obj is not None and self.role in STAFF and self.obj.institution.slug in STAFF[self.role][0]
                and not self.unverified)

    @property
    def process(self) -> bool:
        return self.staff and STAFF[self.role][1]

    @property
    def sign(self) -> bool:
        return self.staff and STAFF[self.role][2]

    def speaks(self, person) -> bool:
        return person is not None and self.w.speaker.get(person.pk) == self.role

    def member(self, conversation) -> str | None:
        """Chat access: "write", "read" or None."""
        if conversation.kind == "angebot":
            return "write" if conversation.pk == getattr(self.obj.oconv, "pk", None) and \
                self.obj.oconv_starter == self.role else None
        return {HOLDER: "write", PARTICIPANT: "write", GUARDIAN: "read"}.get(self.portal)


# --- the expectation table ----------------------------------------------------------------------

Rule = Callable[[Ctx], Any]


def _link_open(c) -> bool:
    """A confirmation link works for the account that asked for it while it is its newest (a holder of
    several object sets asked several times: only the last link is open)."""
    try:
        email_change_pending(user=c.user, token=c.obj.email_token)
    except EmailChangeError:
        return False
    return True


def portal(rule) -> Rule:
    """A portal view behind login_required."""
    return lambda c: "login" if c.anon else (rule(c) if callable(rule) else rule)


def admin(rule) -> Rule:
    """A Wagtail admin view: anonymous users and users without admin access are sent to the admin login."""
    return lambda c: "admin_login" if not c.admin else (rule(c) if callable(rule) else rule)


def superuser_only(ok=200) -> Rule:
    return admin(lambda c: ok if c.superuser else "denied")


@dataclass
class U:
    fill: Callable[[SimpleNamespace], list[tuple[str, dict, dict]]] | None  # None: no object in the URL
    get: Rule
    post: Rule | None = None
    data: Callable[[SimpleNamespace | None, dict], dict] | dict = field(default_factory=dict)
    mixed: Callable[[SimpleNamespace, SimpleNamespace], list[tuple[str, dict]]] | None = None
    post_only: bool = False  # a GET is a 405; the access check is the POST


def portal_post(fill, rule, **options) -> U:
    """A POST-only portal view (login_required outside require_POST)."""
    return U(fill, portal(405), post=portal(rule), post_only=True, **options)


def admin_post(fill, rule, **options) -> U:
    return U(fill, admin(405), post=rule, post_only=True, **options)


def one(attr, kwarg="pk", **info):
    """Fill one URL kwarg from an attribute of the object set (skipped where the set has none)."""
    def fill(s):
        value = getattr(s, attr, None)
        return [] if value is None else [(attr, {kwarg: value.pk}, info)]
    return fill


def many(*variants):
    def fill(s):
        cases = []
        for label, build, info in variants:
            kwargs = build(s)
            if kwargs is not None:
                cases.append((label, kwargs, info))
        return cases
    return fill


def pk_of(attr):
    def get(s):
        value = getattr(s, attr, None)
        return None if value is None else value.pk
    return get


def kw(**parts):
    """kwargs built from pk_of(...) getters; None when any part is missing."""
    def build(s):
        kwargs = {name: getter(s) if callable(getter) else getter for name, getter in parts.items()}
        return None if any(v is None for v in kwargs.values()) else kwargs
    return build


STATIC_200 = U(None, 200)


def _document_rule(c: Ctx):
    kind = c.info["doc"]
    if kind == "offer_attachment":  # a question about an offer: only the asker (staff read it in the chat)
        return 200 if c.obj.oconv_starter == c.role else 404
    if c.staff or c.portal in (HOLDER, GUARDIAN):
        return 200
    return 200 if c.portal == PARTICIPANT and kind == "participant" else 404


def _chat_thread_post(c: Ctx):
    access = c.member(c.info["conv"](c.obj))
    return {"write": 400, "read": 403}.get(access, 404)


def _member_get(c: Ctx):
    return 200 if c.member(c.info["conv"](c.obj)) else 404


def _chat_edit(c: Ctx):
    conversation, message = c.info["conv"](c.obj), c.info["msg"](c.obj)
    access = c.member(conversation)
    if access is None or message.author_id != c.user.pk:
        return 404
    return 200 if access == "write" else 302


def _chat_attachment(c: Ctx):
    conversation = c.info["conv"](c.obj)
    return 200 if c.staff or c.member(conversation) else 404


def _chat_enrollment_get(c: Ctx):
    if c.portal is None:
        return 404
    return 302 if c.obj.conv is not None else 200


def _chat_enrollment_post(c: Ctx):
    if c.portal is None:
        return 404
    if c.obj.conv is not None:
        return 302  # the conversation exists: "Nachrichten" opens it
    return 400 if c.portal in (HOLDER, PARTICIPANT) else 403


def _chat_offer(c: Ctx, *, fresh):
    asked = any(s.oconv is not None and s.oconv_starter == c.role and s.offer.pk == c.obj.offer.pk
                for s in c.w.sets.values())
    return 302 if asked else fresh


def _addon_access(c: Ctx, ok):
    if c.portal is None:
        return 404
    if c.portal != HOLDER:
        return 403  # their own contract, but booking is the holder's
    return ok if c.obj.enrollment.status == S.RATIFIZIERT else 302


def _app_rule(ok):
    def rule(c: Ctx):
        person, app = c.info["person"](c.obj), c.obj.app
        assigned = person is not None and person.pk == c.obj.person.pk and app is not None
        return ok if assigned and c.speaks(person) else 404
    return rule


def _enrollment_participant(c: Ctx):
    if c.portal != HOLDER:
        return 404
    return 302 if c.obj.enrollment.participant_id else 200


def _care_get(c: Ctx):
    return 200 if c.portal in (HOLDER, GUARDIAN) else 404


def _participant_login(ok):
    def rule(c: Ctx):
        person = c.info["person"](c.obj)
        is_self = person.user_id is not None and person.user_id == c.user.pk
        return ok if c.speaks(person) and person.user_id is None and not is_self else 404
    return rule


def _participant_view(c: Ctx):
    """Was der Teilnehmer sieht: only the PSB1 (with access) of a minor with an own login."""
    person = c.info["person"](c.obj)
    if c.user is None or person.user_id is None or person.user_id == c.user.pk or not person.is_minor:
        return 404
    links = Guardian.objects.filter(participant=person, guardian__user=c.user, is_primary=True)
    return 200 if any(link.has_access_on(timezone.localdate()) for link in links) else 404


def _staff(ok, *, perm=None):
    """Admin view scoped to the user's institutions (404 outside), needing `perm` there (else denied)."""
    def rule(c: Ctx):
        if not c.staff:
            return 404
        if (perm == "sign" and not c.sign) or (perm == "process" and not c.process):
            return "denied"
        return ok(c) if callable(ok) else ok
    return admin(rule)


def _modeladmin(model: str, *, list_rule, inspect_rule, create=None, edit=None, delete=None, history=None):
    """The six modeladmin URLs of one model."""
    create = create or admin("denied")
    edit = edit or admin("denied")
    delete = delete or admin("denied")
    history = history or inspect_rule
    prefix = f"workpro_plugin_{model}_modeladmin_"
    obj = {"enrollment": "enrollment", "person": "person", "addonbooking": "booking", "app": "app",
           "outboxmessage": "outbox", "auditevent": "audit", "institution": "institution",
           "cannedreply": "canned", "criterion": "criterion", "offercategory": "category",
           "agegroup": "age_group"}.get(model)
    fill = (lambda s: [("operator", {"instance_pk": Operator.objects.get().pk}, {})]) if model == "operator" \
        else one(obj, "instance_pk")
    rows = {
        prefix + "index": U(None, list_rule),
        prefix + "create": U(None, create),
        prefix + "edit": U(fill, edit),
        prefix + "delete": U(fill, delete),
        prefix + "history": U(fill, history),
    }
    if inspect_rule is not None:
        rows[prefix + "inspect"] = U(fill, inspect_rule)
    return rows


STAFF_LIST = admin(lambda c: 200 if c.role in STAFF else "denied")
STAFF_INSPECT = admin(lambda c: 200 if c.staff else "denied")
ENROLLMENT = one("enrollment")
CONVERSATIONS = many(("conv", kw(pk=pk_of("conv")), {"conv": lambda s: s.conv}),
                     ("oconv", kw(pk=pk_of("oconv")), {"conv": lambda s: s.oconv}))
MEMBER_MESSAGES = many(
    ("member_msg", kw(pk=pk_of("conv"), message_pk=pk_of("member_msg")),
     {"conv": lambda s: s.conv, "msg": lambda s: s.member_msg}),
    ("participant_msg", kw(pk=pk_of("conv"), message_pk=pk_of("participant_msg")),
     {"conv": lambda s: s.conv, "msg": lambda s: s.participant_msg}),
    ("oconv_msg", kw(pk=pk_of("oconv"), message_pk=pk_of("oconv_msg")),
     {"conv": lambda s: s.oconv, "msg": lambda s: s.oconv_msg}),
)
ALL_MESSAGES = many(
    ("member_msg", kw(pk=pk_of("conv"), message_pk=pk_of("member_msg")), {"conv": lambda s: s.conv}),
    ("staff_msg", kw(pk=pk_of("conv"), message_pk=pk_of("staff_msg")), {"conv": lambda s: s.conv}),
    ("oconv_msg", kw(pk=pk_of("oconv"), message_pk=pk_of("oconv_msg")), {"conv": lambda s: s.oconv}),
)
STAFF_MESSAGE = many(("staff_msg", kw(pk=pk_of("conv"), message_pk=pk_of("staff_msg")), {}))
PEOPLE = many(("person", kw(person_id=pk_of("person")), {"person": lambda s: s.person}),
              ("ward", kw(person_id=pk_of("ward")), {"person": lambda s: s.ward}))
APPS = many(("app_person", kw(app_id=pk_of("app"), person_id=pk_of("person")), {"person": lambda s: s.person}),
            ("app_ward", kw(app_id=pk_of("app"), person_id=pk_of("ward")), {"person": lambda s: s.ward}))
CARE = many(("notfallkontakt", kw(pk=pk_of("enrollment"), kind="notfallkontakt", contact_id=pk_of("emergency")), {}),
            ("abholberechtigt", kw(pk=pk_of("enrollment"), kind="abholberechtigt", contact_id=pk_of("pickup")), {}))
DOCUMENTS = many(*[(attr, kw(pk=pk_of(attr)), {"doc": doc}) for attr, doc in (
    ("restricted_doc", "restricted"), ("participant_doc", "participant"), ("attachment_doc", "attachment"),
    ("offer_attachment_doc", "offer_attachment"))])


def _mixed(rule=None, **parts):
    """IDOR: one id from the caller's own set, the other from another institution's set.

    Unless `rule` says otherwise (it sees the caller's own set), that is a 404.
    """
    def build(own, other):
        kwargs = {}
        for name, part in parts.items():
            if isinstance(part, tuple):
                side, getter = part
                value = getter(own if side == "own" else other)
            else:
                value = part
            if value is None:
                return []
            kwargs[name] = value
        return [("mixed", kwargs)]
    build.rule = rule
    return build


# Views built with `Form(request.POST or None)` treat an empty POST as a GET: send something.
BOUND = {"name": ""}

RULES: dict[str, U] = {
    # --- the portal: Mein Konto ---------------------------------------------------------------
    "workpro:account": U(None, portal(200)),
    "workpro:login": U(None, lambda c: 200 if c.anon else 302),
    "workpro:logout": U(None, 405, post=302, post_only=True),
    "workpro:set_password": U(None, portal(200), post=portal(200)),
    "workpro:password_request": U(None, 200, post=200),
    "workpro:password_request_done": STATIC_200,
    "workpro:registration_done": STATIC_200,
    "workpro:help": STATIC_200,
    "workpro:sitemap": STATIC_200,  # public, for search engines: the request's site only (tests/portal/test_seo.py)
    "workpro:robots": STATIC_200,
    "workpro:contact_data": U(None, portal(lambda c: 200 if c.has_person else 404),
                              post=portal(lambda c: 400 if c.has_person else 404)),
    # The link's page asks (GET), the POST confirms; only the account that asked for it, only its newest link.
    "workpro:email_confirm": U(lambda s: [("token", {"token": s.email_token}, {})],
                               portal(lambda c: 200 if _link_open(c) else 400),
                               post=portal(lambda c: 302 if _link_open(c) else 400)),
    "workpro:account_delete": U(None, portal(lambda c: 200 if c.has_person else 404),
                                post=portal(lambda c: 400 if c.has_person else 404)),
    "workpro:data_export": portal_post(PEOPLE, lambda c: 200 if c.speaks(c.info["person"](c.obj)) else 404,
                                       data=lambda s, kwargs: {"person": kwargs.pop("person_id")}),
    "workpro:enrollment_detail": U(ENROLLMENT, portal(lambda c: 200 if c.portal else 404)),
    "workpro:enrollment_withdraw": portal_post(ENROLLMENT, lambda c: 302 if c.portal == HOLDER else 404),
    "workpro:enrollment_proof": U(ENROLLMENT, portal(lambda c: 200 if c.portal == HOLDER else 404),
                                  post=portal(lambda c: 400 if c.portal == HOLDER else 404), data=BOUND),
    "workpro:enrollment_participant": U(ENROLLMENT, portal(_enrollment_participant)),
    # Income is a phase-2 section: a candidate's holder fills it in (a bad POST is a 400); in other
    # states, and before a participant is chosen, a POST only shows the page again.
    "workpro:enrollment_section": U(lambda s: [("income", {"pk": s.enrollment.pk, "section": "income"}, {})],
                                    portal(lambda c: 200 if c.portal == HOLDER else 404),
                                    post=portal(lambda c: 404 if c.portal != HOLDER else
                                                400 if c.obj.enrollment.status == S.KANDIDAT else 200)),
    "workpro:enrollment_print": portal_post(
        ENROLLMENT, lambda c: 200 if c.portal == HOLDER and c.obj.enrollment.participant_id else 404),
    "workpro:enrollment_submit": portal_post(ENROLLMENT, lambda c: 302 if c.portal == HOLDER else 404),
    "workpro:enrollment_accept": U(ENROLLMENT, portal(lambda c: 200 if c.portal == HOLDER else 404),
                                   post=portal(lambda c: 400 if c.portal == HOLDER else 404), data=BOUND),
    "workpro:participant_login": U(PEOPLE, portal(_participant_login(200)), post=portal(_participant_login(400)),
                                   data={"email": ""}),
    "workpro:participant_view": U(PEOPLE, portal(_participant_view)),
    # Platzvergabe (#18): a child's Wunschliste for whoever speaks for the child; the place offered from a
    # waiting list is accepted or declined by the holder (without an offer: a message and back, 302).
    "workpro:wishlist": U(PEOPLE, portal(lambda c: 200 if c.speaks(c.info["person"](c.obj)) else 404)),
    "workpro:place_accept": portal_post(ENROLLMENT, lambda c: 302 if c.portal == HOLDER else 404),
    "workpro:place_decline": portal_post(ENROLLMENT, lambda c: 302 if c.portal == HOLDER else 404),
    "workpro:care": U(ENROLLMENT, portal(_care_get), post=portal(lambda c: 400 if c.portal == HOLDER else 404),
                      data={"kind": "notfallkontakt"}),
    "workpro:care_edit": U(CARE, portal(lambda c: 200 if c.portal == HOLDER else 404),
                           post=portal(lambda c: 400 if c.portal == HOLDER else 404), data=BOUND,
                           mixed=_mixed(pk=("own", pk_of("enrollment")), kind="abholberechtigt",
                                        contact_id=("other", pk_of("pickup")))),
    "workpro:care_remove": portal_post(CARE, lambda c: 302 if c.portal == HOLDER else 404, mixed=_mixed(
        pk=("own", pk_of("enrollment")), kind="notfallkontakt", contact_id=("other", pk_of("emergency")))),
    "workpro:pickup_photo": U(
        many(("pickup", kw(pk=pk_of("enrollment"), contact_id=pk_of("pickup")), {})),
        portal(lambda c: 200 if c.portal in (HOLDER, GUARDIAN) or c.staff else 404),
        mixed=_mixed(pk=("own", pk_of("enrollment")), contact_id=("other", pk_of("pickup")))),
    # --- documents
    "workpro:documents": U(None, portal(200)),
    "workpro:document": U(DOCUMENTS, portal(_document_rule)),
    # --- enrolling on an offer
    # The button shows the participant choice; the enrollment is created only with the choice.
    "workpro:offer_enroll": U(one("offer", "offer_id"), portal(200), post=portal(200)),
    # --- the chat in Mein Konto
    "workpro:chat_list": U(None, portal(200)),
    "workpro:chat_thread": U(CONVERSATIONS, portal(_member_get), post=portal(_chat_thread_post), data={"body": ""}),
    "workpro:chat_poll": U(CONVERSATIONS, portal(_member_get)),
    "workpro:chat_edit": U(MEMBER_MESSAGES, portal(_chat_edit),
                           mixed=_mixed(pk=("own", pk_of("conv")), message_pk=("other", pk_of("member_msg")))),
    "workpro:chat_attachment": U(ALL_MESSAGES, portal(_chat_attachment),
                                 mixed=_mixed(pk=("own", pk_of("conv")), message_pk=("other", pk_of("member_msg")))),
    "workpro:chat_offer": U(one("offer", "offer_id"), portal(lambda c: _chat_offer(c, fresh=200)),
                            post=portal(lambda c: _chat_offer(c, fresh=400)), data={"body": ""}),
    "workpro:chat_enrollment": U(ENROLLMENT, portal(_chat_enrollment_get), post=portal(_chat_enrollment_post),
                                 data={"body": ""}),
    # --- add-ons and apps
    "workpro:enrollment_addons": U(ENROLLMENT, portal(lambda c: 200 if c.portal else 404)),
    "workpro:addon_book": U(many(("addon", kw(pk=pk_of("enrollment"), addon_id=pk_of("addon")), {})),
                            portal(lambda c: _addon_access(c, 200)), post=portal(lambda c: _addon_access(c, 400)),
                            mixed=_mixed(portal(lambda c: _addon_access(c, 404)), pk=("own", pk_of("enrollment")),
                                         addon_id=("other", pk_of("addon")))),
    "workpro:addon_cancel": portal_post(one("booking"), lambda c: _addon_access(c, 302)),
    "workpro:apps": U(None, portal(200)),
    "workpro:app_accept": portal_post(APPS, _app_rule(400),
                                      mixed=_mixed(app_id=("other", pk_of("app")), person_id=("own", pk_of("person")))),
    "workpro:app_open": U(APPS, portal(_app_rule(302)),
                          mixed=_mixed(app_id=("other", pk_of("app")), person_id=("own", pk_of("person")))),

    # --- WorkPro admin views --------------------------------------------------------------------
    "workpro_admin:offer_preview": U(ENROLLMENT, _staff(400, perm="sign")),
    "workpro_admin:enrollment_action": U(
        many(("einladen", kw(pk=pk_of("enrollment"), action="einladen"), {"perm": "process"}),
             ("ratifizieren", kw(pk=pk_of("enrollment"), action="ratifizieren"), {"perm": "sign"}),
             ("erneut-erstellen", kw(pk=pk_of("enrollment"), action="erneut-erstellen"), {"perm": "process"}),
             ("unknown", kw(pk=pk_of("enrollment"), action="gibt-es-nicht"), {"perm": None})),
        admin(lambda c: (404 if not c.staff or c.info["perm"] is None
                         else _staff(200, perm=c.info["perm"])(c)))),
    "workpro_admin:bulk_invite": U(None, admin(200)),
    "workpro_admin:bulk_decide": U(None, admin(200)),
    "workpro_admin:addon_confirm": U(one("booking"), _staff(200, perm="process")),
    "workpro_admin:addon_decline": U(one("booking"), _staff(200, perm="process")),
    "workpro_admin:app_assign": U(one("app"), _staff(200, perm="process")),
    "workpro_admin:app_revoke": U(one("assignment"), _staff(200, perm="process")),
    "workpro_admin:two_factor": U(None, admin(200)),
    "workpro_admin:two_factor_setup": U(None, admin(200)),
    "workpro_admin:two_factor_verify": U(None, admin("2fa")),  # no device yet: on to the setup
    # Mails a link to the user's own address, then back to the setup page.
    "workpro_admin:two_factor_link_request": admin_post(None, admin("2fa")),
    # The mailed link: a token no one was sent is refused, for every admin user alike.
    "workpro_admin:two_factor_link": U(lambda s: [("link", {"token": "nie-verschickt-" + "x" * 30}, {})],
                                       admin(400), post=admin(400)),
    "workpro_admin:two_factor_recovery": U(None, admin(302)),  # no device: to the 2FA page under Konto
    # Leitung (their institutions' staff) and superusers send colleagues the link (to the colleague's address).
    "workpro_admin:two_factor_staff": U(None, admin(lambda c: 200 if c.role in LEADS else "denied")),
    "workpro_admin:two_factor_staff_link": admin_post(
        lambda s: [("lead", {"pk": s.institution.lead_group.user_set.order_by("pk").first().pk}, {})],
        admin(lambda c: "denied" if c.role not in LEADS else (302 if c.staff else 404))),
    "workpro_admin:person_export": admin_post(one("person"), admin(lambda c: 200 if c.staff else 404)),
    # Help a person (#21): staff of the person's institution; a POST without a reason is a 400.
    "workpro_admin:person_contact": U(one("person"), _staff(200), post=_staff(400), data={"reason": ""}),
    "workpro_admin:person_password": U(one("person"), _staff(200), post=_staff(400), data={"reason": ""}),
    # Platzvergabe: staff of an institution (any who process enrollments); a round or waiting list of
    # another institution does not exist for them (404); an admin user of no institution gets a 404.
    # Mail- und SMS-Texte, Vertragsbedingungen (#23): the Leitung of the institution (no one else holds
    # "edit_texts" here); Sachbearbeitung is refused, other institutions do not exist.
    "workpro_admin:texts_index": U(None, admin(lambda c: 200 if c.role in LEADS else 404)),
    "workpro_admin:text_edit": U(many(("invited", kw(pk=pk_of("institution"), event="invited"), {})),
                                 _staff(200, perm="sign"), post=_staff(400, perm="sign"),
                                 data={"subject_de": "Einladung {{ unbekannt }}"}),
    "workpro_admin:terms_edit": U(one("institution"), _staff(200, perm="sign"), post=_staff(302, perm="sign"),
                                  data={"contract": ""}),
    "workpro_admin:allocation_index": U(None, admin(lambda c: 200 if c.role in STAFF else 404)),
    "workpro_admin:allocation_create": U(None, admin(lambda c: 200 if c.role in STAFF else 404),
                                         post=admin(lambda c: 400 if c.role in STAFF else 404), data=BOUND),
    "workpro_admin:allocation_round": U(one("round"), _staff(200)),
    "workpro_admin:allocation_export": U(one("round"), _staff(200)),
    "workpro_admin:allocation_confirm": admin_post(one("round"), _staff(302)),
    "workpro_admin:allocation_waiting": U(one("offer", "offer_pk"), _staff(200)),
    "workpro_admin:allocation_place_offer": admin_post(ENROLLMENT, _staff(302)),
    "workpro_admin:allocation_confirm_criterion": U(ENROLLMENT, _staff(200), post=_staff(400),
                                                    data={"reason": ""}),
    # --- the chat in the admin
    "workpro_chat:inbox": U(None, admin(200)),
    # Rundnachricht: staff who answer messages for an institution; an empty form is a 400.
    "workpro_chat:broadcast": U(None, admin(lambda c: 200 if c.role in STAFF else "denied"),
                                post=admin(lambda c: 400 if c.role in STAFF else "denied"), data={"text": ""}),
    "workpro_chat:thread": U(CONVERSATIONS, _staff(200), post=_staff(400), data={"body": ""}),
    "workpro_chat:poll": U(CONVERSATIONS, _staff(200)),
    "workpro_chat:assign": admin_post(CONVERSATIONS, _staff(302)),
    "workpro_chat:hide": U(ALL_MESSAGES, _staff(200), post=_staff(400), data={"reason": ""},
                           mixed=_mixed(pk=("own", pk_of("conv")), message_pk=("other", pk_of("member_msg")))),
    "workpro_chat:unhide": admin_post(ALL_MESSAGES, _staff(302), mixed=_mixed(
        pk=("own", pk_of("conv")), message_pk=("other", pk_of("member_msg")))),
    "workpro_chat:edit": U(STAFF_MESSAGE, _staff(lambda c: 200 if c.obj.staff_author.pk == c.user.pk else 404),
                           mixed=_mixed(pk=("own", pk_of("conv")), message_pk=("other", pk_of("staff_msg")))),
    "workpro_chat:enrollment_reply": U(ENROLLMENT, _staff(302), post=_staff(400), data={"body": ""}),
    # --- modeladmin of WorkPro models
    **_modeladmin("enrollment", list_rule=STAFF_LIST, inspect_rule=STAFF_INSPECT),
    **_modeladmin("person", list_rule=STAFF_LIST, inspect_rule=STAFF_INSPECT),
    **_modeladmin("addonbooking", list_rule=STAFF_LIST, inspect_rule=STAFF_INSPECT),
    **_modeladmin("app", list_rule=STAFF_LIST, inspect_rule=STAFF_INSPECT,
                  create=admin(lambda c: 200 if c.role in STAFF else "denied"),
                  edit=admin(lambda c: 200 if c.process else "denied")),
    # Textbausteine: the chat staff of the institution; another institution's do not exist for them (404).
    **_modeladmin("cannedreply", list_rule=STAFF_LIST, inspect_rule=None,
                  create=admin(lambda c: 200 if c.role in STAFF else "denied"),
                  edit=_staff(200), delete=_staff(200), history=_staff(200)),
    # Kriterienkatalog: like the Textbausteine, per institution.
    **_modeladmin("criterion", list_rule=STAFF_LIST, inspect_rule=None,
                  create=admin(lambda c: 200 if c.role in STAFF else "denied"),
                  edit=_staff(200), delete=_staff(200), history=_staff(200)),
    # Angebotskategorien and Altersgruppen (#23): like the Kriterienkatalog for the institution's own entries
    # (the shared ones, read-only for staff, are covered in tests/backoffice/test_offer_taxonomy.py).
    **_modeladmin("offercategory", list_rule=STAFF_LIST, inspect_rule=None,
                  create=admin(lambda c: 200 if c.role in STAFF else "denied"),
                  edit=_staff(200), delete=_staff(200), history=_staff(200)),
    **_modeladmin("agegroup", list_rule=STAFF_LIST, inspect_rule=None,
                  create=admin(lambda c: 200 if c.role in STAFF else "denied"),
                  edit=_staff(200), delete=_staff(200), history=_staff(200)),
    **_modeladmin("outboxmessage", list_rule=superuser_only(), inspect_rule=superuser_only()),
    **_modeladmin("auditevent", list_rule=superuser_only(), inspect_rule=superuser_only()),
    **_modeladmin("institution", list_rule=superuser_only(), inspect_rule=None, create=superuser_only(),
                  edit=superuser_only(), delete=superuser_only(), history=superuser_only()),
    **_modeladmin("operator", list_rule=superuser_only(), inspect_rule=None, create=superuser_only(),
                  edit=superuser_only(), delete=superuser_only(), history=superuser_only()),
}

# Gebührenordnungen (snippet): Django model permissions, which only superusers hold, and scoped to the
# user's institutions: another institution's schedule is a 404 before any permission is asked.
_SNIPPET = "wagtailsnippets_workpro_plugin_feeschedule:"
_CHOOSER = "wagtailsnippetchoosers_workpro_plugin_feeschedule:"
FEE = one("fee_schedule")


def fee_scoped(ok_for_staff) -> Rule:
    """Superusers: 200; staff of the schedule's institution: `ok_for_staff`; anyone else: 404."""
    return admin(lambda c: 200 if c.superuser else (ok_for_staff if c.staff else 404))


RULES.update({
    _SNIPPET + "list": U(None, superuser_only()),
    _SNIPPET + "list_results": U(None, superuser_only()),
    _SNIPPET + "add": U(None, superuser_only()),
    _SNIPPET + "edit": U(FEE, fee_scoped("denied")),
    _SNIPPET + "delete": U(FEE, fee_scoped("denied")),
    _SNIPPET + "usage": U(FEE, fee_scoped("denied")),
    _SNIPPET + "history": U(FEE, fee_scoped("denied")),
    _SNIPPET + "history_results": U(FEE, fee_scoped("denied")),
    _SNIPPET + "copy": U(FEE, fee_scoped("denied")),
    # The chooser is how an offer page's editor picks its fee schedule: everyone in the admin may open
    # it, and it lists (and returns) only the schedules of the user's institutions and shared ones.
    _CHOOSER + "choose": U(None, admin(200)),
    _CHOOSER + "choose_results": U(None, admin(200)),
    _CHOOSER + "chosen": U(lambda s: [] if s.fee_schedule is None else [("fee", {"pk": str(s.fee_schedule.pk)}, {})],
                           fee_scoped(200)),
    _CHOOSER + "chosen_multiple": U(None, admin(200)),
    _CHOOSER + "create": U(None, superuser_only()),
})


# --- running the cases --------------------------------------------------------------------------

PORTAL_LOGIN = "/workpro/konto/anmelden/"
ADMIN_LOGIN = "/admin/login/"
ADMIN_HOME = "/admin/"
TWO_FACTOR = ("/admin/workpro/zwei-faktor/einrichten/", "/admin/workpro/zwei-faktor/code/")


class _Rollback(Exception):
    pass


def outcome(response) -> Any:
    if response.status_code in (301, 302):
        location = response["Location"]
        path = urlparse(location).path
        if path == PORTAL_LOGIN and "next=" in location:
            return "login"
        if path == ADMIN_LOGIN:
            return "admin_login"
        if path == ADMIN_HOME:
            return "denied"
        if path in TWO_FACTOR:
            return "2fa"
        return 302
    return response.status_code


def request(client, method: str, path: str, data: dict) -> tuple[Any, str]:
    """One request inside a savepoint that is always rolled back: the outcome (a 500 as a text) and,
    for an HTML page, its text."""
    result = {"body": ""}
    cookies = copy.deepcopy(client.cookies)
    try:
        with transaction.atomic():
            try:
                response = getattr(client, method)(path, data, **HOST)
            except Exception as exc:  # noqa: BLE001 - any exception is a 500 to report
                result["outcome"] = f"500 {type(exc).__name__}: {exc}"[:200]
            else:
                result["outcome"] = outcome(response)
                if response.status_code == 200 and response.get("Content-Type", "").startswith("text/html"):
                    result["body"] = response.content.decode()
                # No response.close(): it fires request_finished, whose close_old_connections closes a
                # PostgreSQL connection inside this atomic block (autocommit differs from the setting).
            raise _Rollback
    except _Rollback:
        pass
    client.cookies = cookies  # messages and a logout must not leak into the next case
    return result["outcome"], result["body"]


# Pages that list things: besides the status, the names of participants the role has nothing to do
# with must not appear on them.
LIST_PAGES = {
    "workpro:account", "workpro:documents", "workpro:chat_list", "workpro:apps", "workpro:contact_data",
    "workpro_chat:inbox", "workpro_admin:bulk_invite", "workpro_admin:bulk_decide",
    *(f"workpro_plugin_{model}_modeladmin_index" for model in (
        "enrollment", "person", "addonbooking", "app", "cannedreply", "outboxmessage", "auditevent")),
}


def related(w: World, role: str, s: SimpleNamespace) -> bool:
    if role in s.portal or w.speaker.get(s.person.pk) == role:
        return True
    return role in STAFF and s.institution.slug in STAFF[role][0]


def strangers(w: World, role: str) -> tuple[str, ...]:
    """Full names of the participants of every object set `role` is not related to."""
    return tuple(s.person.full_name for s in w.sets.values() if not related(w, role, s))


@dataclass
class Case:
    name: str
    role: str
    rel: str
    variant: str
    method: str
    path: str
    expected: Any
    data: dict
    forbidden: tuple[str, ...] = ()


def expand(w: World, names: list[str], roles=ROLES, *, others: bool = True, unverified: bool = False,
           mixed: bool = True) -> list[Case]:
    """The cases of `names` for `roles`: own objects, other people's objects, and own/foreign id pairs."""
    cases = []
    for name in names:
        spec = RULES[name]
        for role in roles:
            own, foreign_sets = ROLES[role]
            targets = [("own", key) for key in own] + [("other", key) for key in foreign_sets]
            if not others or (role not in ADMIN_ROLES and not name.startswith("workpro:")):
                targets = targets[:1]  # without admin access the object makes no difference: one is enough
            for index, (rel, key) in enumerate([("-", None)] if spec.fill is None else targets):
                obj = w.sets[key] if key else None
                for variant, kwargs, info in ([("-", {}, {})] if spec.fill is None else spec.fill(obj)):
                    kwargs = dict(kwargs)
                    data = spec.data(obj, kwargs) if callable(spec.data) else dict(spec.data)
                    path = reverse(name, kwargs=kwargs)
                    ctx = Ctx(role=role, w=w, obj=obj, info=info, unverified=unverified)
                    for method, rule in (("get", spec.get), ("post", spec.post)):
                        if method == "get" and spec.post_only and index > 0:
                            continue  # the 405 of a POST-only view does not depend on the object
                        if rule is not None:
                            expected = rule(ctx) if callable(rule) else rule
                            cases.append(Case(name, role, rel, variant, method, path, expected,
                                              data if method == "post" else {},
                                              strangers(w, role) if name in LIST_PAGES else ()))
            if mixed and spec.mixed is not None and own:
                foreign = "B" if own[0] == "X" else "X"
                for variant, kwargs in spec.mixed(w.sets[own[0]], w.sets[foreign]):
                    if spec.mixed.rule is not None:
                        expected = spec.mixed.rule(Ctx(role=role, w=w, obj=w.sets[own[0]], info={}))
                    elif name.startswith("workpro:"):
                        expected = 404
                    else:
                        expected = 404 if role in ADMIN_ROLES else "admin_login"
                    method = "post" if spec.post_only and role != "anonymous" else "get"
                    cases.append(Case(name, role, "mixed", variant, method, reverse(name, kwargs=kwargs), expected,
                                      dict(spec.data) if method == "post" else {}))
    return cases


def run_cases(client, w: World, cases: list[Case], login=None) -> list[str]:
    """Every case as its role; the differences from the expectation, one line each."""
    failures = []
    current = object()
    for case in sorted(cases, key=lambda c: c.role):
        if case.role != current:
            current = case.role
            client.logout()
            if case.role != "anonymous":
                (login or client.force_login)(w.users[case.role])
        got, body = request(client, case.method, case.path, case.data)
        if got != case.expected:
            failures.append(f"{case.method.upper()} {case.name} [{case.variant}] as {case.role} ({case.rel}): "
                            f"expected {case.expected}, got {got} — {case.path}")
        if leaked := [name for name in case.forbidden if name in body]:
            failures.append(f"{case.method.upper()} {case.name} as {case.role} shows {leaked} — {case.path}")
    return failures


# --- the tests ----------------------------------------------------------------------------------

def test_every_workpro_url_is_classified():
    """A new view fails here until it has a row in RULES; a row without a view is stale."""
    collected = set(collect_urls())
    assert collected, "no WorkPro URLs found"
    assert sorted(collected - set(RULES)) == [], "unclassified WorkPro views: add them to RULES"
    assert sorted(set(RULES) - collected) == [], "RULES for views that no longer exist"


PUBLIC_OBJECT_URLS = {"workpro:offer_enroll", "workpro:chat_offer", "workpro:email_confirm"}


@pytest.fixture
def matrix_world(world, make_offer, monkeypatch):
    # Thousands of requests can outlast the five-minute edit window on a loaded machine; the window
    # itself is tested with the chat (tests/portal/test_chat.py), here only who may edit.
    monkeypatch.setattr("workpro_plugin.models.chat.EDIT_WINDOW", timedelta(hours=2))
    return build_world(world, make_offer)


def test_permission_matrix(client, matrix_world):
    names = collect_urls()
    cases = expand(matrix_world, names)
    covered = {case.name for case in cases}
    assert covered == set(names), f"views without a case: {sorted(set(names) - covered)}"
    assert {case.role for case in cases} == set(ROLES)
    # Someone else's object in the portal is a 404 (never a 200, nor a 403 that confirms it exists),
    # for everyone but superusers; offers are public, and a foreign email token only fails. (Where a
    # mixed case's own contract is refused first, the foreign id is never looked at: its own rule.)
    foreign = [c for c in cases if c.name.startswith("workpro:") and c.role != "superuser"
               and c.name not in PUBLIC_OBJECT_URLS
               and (c.rel == "other" or c.rel == "mixed" and RULES[c.name].mixed.rule is None)]
    assert foreign and {c.expected for c in foreign} <= {404, 405, "login"}
    failures = run_cases(client, matrix_world, cases)
    print(f"\ncases checked: {len(cases)} ({len(names)} URLs × {len(ROLES)} roles × own/other objects)")
    assert failures == [], f"{len(failures)} of {len(cases)} cases differ:\n" + "\n".join(failures)
    note("permission matrix cases", len(cases))
    note("permission matrix URLs", len(names))
    # The name check of list pages is not vacuous: staff do see their own institution's participants.
    client.force_login(matrix_world.users["caseworker"])
    listing = client.get(reverse("workpro_plugin_enrollment_modeladmin_index"), **HOST).content.decode()
    assert matrix_world.sets["B"].person.full_name in listing
    assert matrix_world.sets["X"].person.full_name in strangers(matrix_world, "caseworker")


# --- with the second factor required ----------------------------------------------------------

# Admin views a staff member without a verified device still reaches, and where they lead.
TWO_FACTOR_OPEN = {"workpro_admin:two_factor_setup": 200, "workpro_admin:two_factor_verify": "2fa",
                   "workpro_admin:two_factor_link_request": 405, "workpro_admin:two_factor_link": 400}
# Portal views that let staff in as staff: without the second factor they must not.
PORTAL_STAFF_VIEWS = ("workpro:document", "workpro:pickup_photo", "workpro:chat_attachment")


@override_settings(WORKPRO_REQUIRE_STAFF_2FA=True)
def test_staff_without_a_verified_device_reach_nothing_but_the_second_factor(client, matrix_world):
    """Every admin URL sends them to the setup; the portal's staff paths (documents, pickup photos,
    chat attachments) answer as if they were not staff. Then the same with a verified device."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    names = collect_urls()
    admin_names = [name for name in names if not name.startswith("workpro:")]
    roles = ("caseworker", "lead", "other_staff", "editor", "superuser")
    gated = [case for case in expand(matrix_world, admin_names, roles, others=False, mixed=False)
             if case.method == "get"]
    for case in gated:
        case.expected = TWO_FACTOR_OPEN.get(case.name, "2fa")
    unverified = expand(matrix_world, PORTAL_STAFF_VIEWS, roles, unverified=True)
    assert any(case.expected == 404 and case.rel == "own" for case in unverified)

    def verified_login(user):
        device = TOTPDevice.objects.create(user=user, name="WorkPro", confirmed=True)
        client.force_login(user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()

    verified = expand(matrix_world, [*admin_names, *PORTAL_STAFF_VIEWS], ("lead",))
    for case in verified:  # already verified: the setup leads to the 2FA page, the code page to the dashboard
        case.expected = {"workpro_admin:two_factor_setup": 302, "workpro_admin:two_factor_verify": "denied",
                         "workpro_admin:two_factor_link": 302, "workpro_admin:two_factor_recovery": 200,
                         }.get(case.name, case.expected)
        if case.name == "workpro_admin:two_factor_link_request" and case.method == "post":
            case.expected = 302  # already set up: to the 2FA page under Konto, no link sent
    failures = run_cases(client, matrix_world, gated + unverified)
    failures += run_cases(client, matrix_world, verified, login=verified_login)
    total = len(gated) + len(unverified) + len(verified)
    print(f"\n2FA cases checked: {total}")
    assert failures == [], f"{len(failures)} of {total} cases differ:\n" + "\n".join(failures)
    note("permission matrix cases with 2FA required", total)
