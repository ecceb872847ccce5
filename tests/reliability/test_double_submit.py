"""A form sent twice (double click, two tabs, a retrying proxy) changes things once.

Sequential repeats run on every database; parallel ones (threads released together by
a barrier) need PostgreSQL's row locks and run when DATABASE_URL points to it.
"""


import pytest
from django.test import Client

from tests.factories import complete_sections, enrollment_in, mark_printed
from tests.helpers import needs_postgres, race
from workpro_plugin.models import Document, Enrollment, EnrollmentLog, OutboxMessage, Person

S = Enrollment.Status
PARALLEL = 4
REGISTRATION = {"last_name": "Muster", "first_name": "Erika", "email": "erika@example.org", "privacy": "on"}

def _kita_client(user=None) -> Client:
    client = Client(HTTP_HOST="kita.test")
    if user is not None:
        client.force_login(user)
    return client


def _figures(label: str, **counts) -> None:
    print(f"\n{label}: " + ", ".join(f"{k}={v}" for k, v in counts.items()))


# --- public registration form -------------------------------------------------------------------

@pytest.mark.django_db
def test_registration_sent_twice_makes_one_account_one_interest_one_mail(world, run_on_commit):
    url = world.offer.relative_url(world.kita.site)
    with run_on_commit():
        first = _kita_client().post(url, REGISTRATION)
        second = _kita_client().post(url, REGISTRATION)
    assert first.status_code == second.status_code == 302
    people = Person.objects.filter(email="erika@example.org").count()
    interests = Enrollment.objects.filter(account_holder__username="erika@example.org").count()
    mails = OutboxMessage.objects.filter(recipient="erika@example.org").count()
    _figures("registration x2 (sequential)", people=people, enrollments=interests, mails=mails)
    assert (people, interests, mails) == (1, 1, 1)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_registration_sent_in_parallel_makes_one_account_one_interest_one_mail(world):
    needs_postgres("parallel requests need PostgreSQL row locks (set DATABASE_URL); SQLite serialises writers")
    url = world.offer.relative_url(world.kita.site)
    responses = race(PARALLEL, lambda i: _kita_client().post(url, REGISTRATION, REMOTE_ADDR=f"127.0.0.{i + 1}"))
    assert [getattr(r, "status_code", r) for r in responses] == [302] * PARALLEL
    people = Person.objects.filter(email="erika@example.org").count()
    interests = Enrollment.objects.filter(account_holder__username="erika@example.org").count()
    mails = OutboxMessage.objects.filter(recipient="erika@example.org").count()
    _figures(f"registration x{PARALLEL} (parallel)", people=people, enrollments=interests, mails=mails)
    assert (people, interests, mails) == (1, 1, 1)


# --- "Zum Angebot anmelden" ------------------------------------------------------------------------

def _enroll_url(world) -> str:
    return f"/workpro/angebot/{world.offer.pk}/anmelden/"


@pytest.mark.django_db
@pytest.mark.parametrize("choice", ["self", "new_child"])
def test_zum_angebot_anmelden_twice_makes_one_enrollment(world, choice):
    client = _kita_client(world.holder)
    assert client.post(_enroll_url(world)).status_code == 200  # the button shows the choice, creates nothing
    assert not Enrollment.objects.filter(account_holder=world.holder).exists()
    data = {"teilnehmer_waehlen": "1", **({"participant": str(world.holder.workpro_person.pk)} if choice == "self"
                                          else NEW_CHILD)}
    first, second = client.post(_enroll_url(world), data), client.post(_enroll_url(world), data)
    assert first.status_code == second.status_code == 302 and first["Location"] == second["Location"]
    assert Enrollment.objects.filter(account_holder=world.holder).count() == 1
    assert Person.objects.filter(first_name="Lena").count() == (1 if choice == "new_child" else 0)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_zum_angebot_anmelden_in_parallel_makes_one_enrollment(world):
    needs_postgres("parallel requests need PostgreSQL row locks (set DATABASE_URL); SQLite serialises writers")
    data = {"teilnehmer_waehlen": "1", **NEW_CHILD}
    responses = race(PARALLEL, lambda i: _kita_client(world.holder).post(_enroll_url(world), data))
    assert [getattr(r, "status_code", r) for r in responses] == [302] * PARALLEL
    assert len({r["Location"] for r in responses}) == 1
    count = Enrollment.objects.filter(account_holder=world.holder).count()
    _figures(f"Zum Angebot anmelden x{PARALLEL} (parallel)", enrollments=count)
    assert count == 1


def _participant_post(client, enrollment, data):
    return client.post(f"/workpro/konto/anmeldung/{enrollment.pk}/teilnehmer/", data)


NEW_CHILD = {"participant": "neu", "custody": "on", "last_name": "Muster", "first_name": "Lena", "date_of_birth": "2023-03-01",
             "relation": "mutter"}


@pytest.mark.django_db
@pytest.mark.parametrize("choice", ["self", "new_child"])
def test_participant_chosen_twice_gives_one_number_one_log_one_mail(world, run_on_commit, choice):
    enrollment = Enrollment.objects.create(offer=world.offer, institution=world.kita, account_holder=world.holder)
    data = {"participant": str(world.holder.workpro_person.pk)} if choice == "self" else NEW_CHILD
    client = _kita_client(world.holder)
    with run_on_commit():
        first, second = _participant_post(client, enrollment, data), _participant_post(client, enrollment, data)
    assert first.status_code == second.status_code == 302
    enrollment.refresh_from_db()
    logs = EnrollmentLog.objects.filter(enrollment=enrollment, action="workpro.enrollment.participant_enrolled").count()
    children = Person.objects.filter(first_name="Lena").count()
    _figures(f"participant ({choice}) x2", logs=logs, children=children,
             mails=OutboxMessage.objects.count(), contract_number=enrollment.contract_number)
    assert logs == 1 and OutboxMessage.objects.count() == 1 and enrollment.contract_number
    assert children == (1 if choice == "new_child" else 0)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("choice", ["self", "new_child"])
def test_participant_chosen_in_parallel_gives_one_number_one_log(world, choice):
    needs_postgres("parallel requests need PostgreSQL row locks (set DATABASE_URL); SQLite serialises writers")
    enrollment = Enrollment.objects.create(offer=world.offer, institution=world.kita, account_holder=world.holder)
    data = {"participant": str(world.holder.workpro_person.pk)} if choice == "self" else NEW_CHILD
    responses = race(PARALLEL, lambda i: _participant_post(_kita_client(world.holder), enrollment, data))
    assert [getattr(r, "status_code", r) for r in responses] == [302] * PARALLEL
    enrollment.refresh_from_db()
    logs = EnrollmentLog.objects.filter(enrollment=enrollment, action="workpro.enrollment.participant_enrolled").count()
    children = Person.objects.filter(first_name="Lena").count()
    numbers = Enrollment.objects.exclude(contract_number=None).count()
    _figures(f"participant ({choice}) x{PARALLEL} (parallel)", logs=logs, children=children, numbers=numbers,
             mails=OutboxMessage.objects.count())
    assert (logs, numbers, OutboxMessage.objects.count()) == (1, 1, 1)
    assert children == (1 if choice == "new_child" else 0)


# --- "Anmeldung absenden" ------------------------------------------------------------------------

def _ready_to_submit(world):
    enrollment = enrollment_in(S.INTERESSENT, offer=world.offer, institution=world.kita, holder=world.holder)
    complete_sections(enrollment, phase=1)
    mark_printed(enrollment)
    return enrollment


def _submit(client, enrollment):
    return client.post(f"/workpro/konto/anmeldung/{enrollment.pk}/absenden/")


@pytest.mark.django_db
def test_anmeldung_absenden_twice_submits_once(world, run_on_commit):
    enrollment = _ready_to_submit(world)
    client = _kita_client(world.holder)
    with run_on_commit():
        first, second = _submit(client, enrollment), _submit(client, enrollment)
    assert first.status_code == second.status_code == 302
    enrollment.refresh_from_db()
    logs = EnrollmentLog.objects.filter(enrollment=enrollment, action="workpro.enrollment.submitted").count()
    documents = Document.objects.filter(enrollment=enrollment, kind="application").count()
    _figures("Anmeldung absenden x2", status=enrollment.status, logs=logs, documents=documents,
             mails=OutboxMessage.objects.count())
    assert (enrollment.status, logs, documents, OutboxMessage.objects.count()) == (S.BEWERBER, 1, 1, 1)
    page = client.get(f"/workpro/konto/anmeldung/{enrollment.pk}/").content.decode()
    assert "Bewerber" in page


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_anmeldung_absenden_in_parallel_submits_once(world):
    needs_postgres("parallel requests need PostgreSQL row locks (set DATABASE_URL); SQLite serialises writers")
    enrollment = _ready_to_submit(world)
    responses = race(PARALLEL, lambda i: _submit(_kita_client(world.holder), enrollment))
    assert [getattr(r, "status_code", r) for r in responses] == [302] * PARALLEL
    enrollment.refresh_from_db()
    logs = EnrollmentLog.objects.filter(enrollment=enrollment, action="workpro.enrollment.submitted").count()
    documents = Document.objects.filter(enrollment=enrollment, kind="application").count()
    _figures(f"Anmeldung absenden x{PARALLEL} (parallel)", status=enrollment.status, logs=logs,
             documents=documents, mails=OutboxMessage.objects.count())
    assert (enrollment.status, logs, documents, OutboxMessage.objects.count()) == (S.BEWERBER, 1, 1, 1)
