"""Issue #15: a logged-out visitor registering an existing address on an offer attaches nothing to
that account (no enrollment, no person, no consent, so the institution's staff never see or
export the person); the owner gets one generic mail and decides after logging in. Staff and
superuser addresses get the very same mail. The visitor sees what a new address sees."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from tests.factories import enrollment_in, make_user
from tests.security_figures import note
from workpro_plugin.backoffice.people import PersonAdmin
from workpro_plugin.models import Consent, Enrollment, OutboxMessage, Person
from workpro_plugin.services import privacy

pytestmark = pytest.mark.django_db
User = get_user_model()
S = Enrollment.Status
PASSWORD_RE = re.compile(r"\b[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}\b")
CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
KINDS = ["holder_elsewhere", "holder_here", "other_staff", "caseworker", "superuser", "staff_with_person"]


@pytest.fixture
def accounts(world, make_offer):
    """Existing accounts of every kind; the holder is known at the BBZ only."""
    bbz_offer = make_offer(world.other, "Ausbildung")
    elsewhere = make_user("nur-bbz@example.org")
    enrollment_in(S.BEWERBER, offer=bbz_offer, institution=world.other, holder=elsewhere)
    enrollment_in(S.BEWERBER, offer=world.offer, institution=world.kita, holder=world.holder)
    staff_with_person = make_user("lehrer@bbz.test", groups=[world.other.staff_group])
    return {"holder_elsewhere": elsewhere, "holder_here": world.holder, "other_staff": world.other_staff,
            "caseworker": world.caseworker, "superuser": world.superuser, "staff_with_person": staff_with_person}


def _register(client, world, email, run_on_commit, **extra):
    data = {"last_name": "Angreifer", "first_name": "Mallory", "email": email, "privacy": "on", **extra}
    with run_on_commit():
        response = client.post(world.offer.relative_url(world.kita.site), data, HTTP_HOST="kita.test")
    done = client.get(response["Location"], HTTP_HOST="kita.test") if response.status_code == 302 else None
    return response, done


def _snapshot(user):
    return {
        "enrollments": sorted(Enrollment.objects.filter(account_holder=user).values_list("pk", flat=True)),
        "people": sorted(Person.objects.filter(user=user).values_list("pk", flat=True)),
        "consents": Consent.objects.filter(user=user).count() + Consent.objects.filter(person__user=user).count(),
        "password": User.objects.get(pk=user.pk).password,
        "person_fields": list(Person.objects.filter(user=user).values()),
    }


@pytest.mark.parametrize("kind", KINDS)
def test_registering_an_existing_address_attaches_nothing(client, world, accounts, run_on_commit, kind):
    user = accounts[kind]
    before = _snapshot(user)
    response, done = _register(client, world, user.email.upper(), run_on_commit)
    assert response.status_code == 302 and response["Location"] == "/workpro/registriert/"
    assert _snapshot(user) == before
    assert User.objects.filter(email__iexact=user.email).count() == 1
    # Staff of the KiTa cannot find or export anyone the KiTa did not already know.
    person = Person.objects.filter(user=user).first()
    if person is not None:
        known_before = kind in ("holder_here",)
        assert PersonAdmin.scoped(world.caseworker).filter(pk=person.pk).exists() is known_before
        assert privacy.staff_may_export(world.caseworker, person) is known_before
    [sent] = [m for m in mail.outbox if m.to == [user.email]]
    assert PASSWORD_RE.search(sent.body) is None
    assert "nichts an Ihr Konto gebunden" in sent.body and "Zum Angebot anmelden" in sent.body
    assert "Mallory" not in sent.body and "Angreifer" not in sent.body  # nothing the visitor typed
    assert OutboxMessage.objects.get(recipient=user.email).template == "registration_existing"
    assert done.status_code == 200
    note("registration: existing addresses registered by a visitor, nothing attached", len(KINDS))


def test_staff_and_superusers_get_the_generic_mail_and_visitors_the_generic_page(
        client, world, accounts, run_on_commit):
    """One mail text for every existing account (the greeting aside) and one page for every visitor,
    new address or not: neither tells staff accounts or known addresses apart."""
    bodies, pages, answers = {}, {}, {}
    for kind in [*KINDS, "new"]:
        email = accounts[kind].email if kind != "new" else "neu@example.org"
        client.cookies.clear()
        mail.outbox.clear()
        response, done = _register(client, world, email, run_on_commit)
        answers[kind] = (response.status_code, response["Location"], tuple(sorted(response.cookies)))
        pages[kind] = CSRF_RE.sub("", done.content.decode().replace(email, "EMAIL"))
        if kind != "new":
            [sent] = mail.outbox
            bodies[kind] = (sent.subject, sent.body.split("\n", 1)[1], sent.from_email, sent.reply_to,
                            [a[1] for a in sent.alternatives])
    assert len(set(answers.values())) == 1
    assert len(set(pages.values())) == 1
    generic = {kind: (subject, body, sender, tuple(reply_to)) for kind, (subject, body, sender, reply_to, _h)
               in bodies.items()}
    assert len(set(generic.values())) == 1, generic
    # A new address did get an account; the same page was shown.
    assert User.objects.filter(username="neu@example.org").exists()
    note("registration: visitor answers compared (existing kinds + new address)", len(answers))


def test_the_owner_registers_after_logging_in(client, world, accounts, run_on_commit):
    user = accounts["holder_elsewhere"]
    _register(client, world, user.email, run_on_commit)
    assert not Enrollment.objects.filter(account_holder=user, offer=world.offer).exists()
    client.force_login(user)
    response = client.post(f"/workpro/angebot/{world.offer.pk}/anmelden/",
                           {"teilnehmer_waehlen": "1", "participant": str(user.workpro_person.pk)}, HTTP_HOST="kita.test")
    assert response.status_code == 302
    assert Enrollment.objects.filter(account_holder=user, offer=world.offer, status=S.INTERESSENT).exists()


def test_a_double_submit_for_an_existing_address_mails_once(client, world, accounts, run_on_commit):
    user = accounts["other_staff"]
    _register(client, world, user.email, run_on_commit)
    _register(client, world, user.email, run_on_commit)
    assert OutboxMessage.objects.filter(recipient=user.email, template="registration_existing").count() == 1
