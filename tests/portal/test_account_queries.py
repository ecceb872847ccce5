"""Mein Konto (#22): a number of queries that does not grow with the contracts (a page's rows that need an
application's data or Notfalldaten add a fixed few), and lookups by the PortalScope's ids that select what
the general portal selectors select."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import enrollment_in, make_child, make_user
from tests.factories.chat import chat_world, start_enrollment_thread
from tests.helpers import HOST
from workpro_plugin.lib.paging import page_of
from workpro_plugin.models import Document, Enrollment
from workpro_plugin.portal.views.enrollments import CONTRACTS_PER_PAGE
from workpro_plugin.selectors.chat import (
    portal_conversations,
    portal_unread_counts,
    portal_unread_total,
)
from workpro_plugin.selectors.documents import portal_documents, portal_unread_documents
from workpro_plugin.selectors.enrollments import (
    portal_contract_rows,
    portal_contracts,
    portal_enrollments,
    portal_participations,
    portal_scope,
)
from workpro_plugin.services import chat as chat_svc

pytestmark = pytest.mark.django_db
S = Enrollment.Status
STATUSES = [S.INTERESSENT, S.BEWERBER, S.EINGELADEN, S.KANDIDAT, S.ABGELEHNT, S.EINGESTUFT, S.ANGEBOT,
            S.ANGENOMMEN, S.RATIFIZIERT]



@pytest.fixture
def chat(world):
    return chat_world(world)

def _overview_queries(client) -> int:
    client.get("/workpro/konto/", **HOST)
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/workpro/konto/", **HOST)
    assert response.status_code == 200
    return len(captured)


def test_the_overview_costs_the_same_queries_for_1_contract_and_a_full_page_in_every_status(world, client):
    counts = {}
    for number, status in enumerate(STATUSES):
        holder = make_user(f"familie-{number}@example.org")
        # the holder also takes part in a contract someone else holds (Meine Teilnahme)
        enrollment_in(S.BEWERBER, offer=world.offer, institution=world.kita, holder=world.stranger,
                      participant=holder.workpro_person)
        client.force_login(holder)
        for total in (1, CONTRACTS_PER_PAGE):
            have = Enrollment.objects.filter(account_holder=holder).count()
            for i in range(have, total):
                enrollment = enrollment_in(status, offer=world.offer, institution=world.kita, holder=holder,
                                           participant=make_child(holder, first_name=f"Kind {i}"))
                if i % 2:  # every other application changed after printing: "Anmeldung drucken" again
                    Enrollment.objects.filter(pk=enrollment.pk).update(printed_fingerprint="alt")
            counts[status, total] = _overview_queries(client)
    for status in STATUSES:
        assert counts[status, 1] == counts[status, CONTRACTS_PER_PAGE], counts
    # a page that needs neither an application's data nor Notfalldaten reads its rows alone; the application
    # rounds add the offer, its sections and the rows' sections, a minor's contract its Abholberechtigte
    plain = counts[S.BEWERBER, 1]
    assert {status: counts[status, 1] - plain for status in STATUSES} == {
        S.INTERESSENT: 3, S.BEWERBER: 0, S.EINGELADEN: 0, S.KANDIDAT: 3, S.ABGELEHNT: 0, S.EINGESTUFT: 0,
        S.ANGEBOT: 1, S.ANGENOMMEN: 1, S.RATIFIZIERT: 1}
    # session, user, Person, wards, the contracts' keys as holder and as guardian, a page of them,
    # Meine Teilnahme, the unread counts, the site, two of permissions
    assert plain <= 12


def test_a_page_reads_the_offer_sections_and_pickups_only_for_the_rows_that_need_them(world, client):
    """with_row_relations: rows whose next step is their status's read neither the offer, nor sections,
    nor Abholberechtigte; a page with every status reads each once, whatever its number of rows."""
    client.force_login(world.holder)
    tables = ("workpro_plugin_offersection", "workpro_plugin_enrollmentsection", "workpro_plugin_pickupperson",
              '"workpro_plugin_offerpage"."questions"')

    def extra_reads():
        client.get("/workpro/konto/", **HOST)
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/workpro/konto/", **HOST).status_code == 200
        return sorted(table for query in captured for table in tables if table in query["sql"])

    for status in (S.BEWERBER, S.EINGELADEN, S.ABGELEHNT):
        enrollment_in(status, offer=world.offer, institution=world.kita, holder=world.holder,
                      participant=make_child(world.holder))
    assert extra_reads() == []
    for _ in range(2):
        for status in STATUSES:
            enrollment_in(status, offer=world.offer, institution=world.kita, holder=world.holder,
                          participant=make_child(world.holder))
        assert extra_reads() == sorted(tables)


def test_the_next_step_of_a_page_row_is_the_one_of_the_contract(world, client):
    """The rows' next steps are computed from prefetched sections: the same as a contract read alone."""
    client.force_login(world.holder)
    rows = []
    for status in (S.INTERESSENT, S.KANDIDAT):
        for printed in (True, False):
            enrollment = enrollment_in(status, offer=world.offer, institution=world.kita, holder=world.holder,
                                       participant=make_child(world.holder))
            if not printed:
                Enrollment.objects.filter(pk=enrollment.pk).update(printed_fingerprint="alt")
            rows.append(enrollment.pk)
    incomplete = enrollment_in(S.INTERESSENT, offer=world.offer, institution=world.kita, holder=world.holder,
                               participant=make_child(world.holder))
    incomplete.sections.all().delete()
    rows.append(incomplete.pk)
    page = page_of(portal_contracts(portal_scope(world.holder)), None, 20)
    shown = {e.pk: e.next_step for e in page.object_list}
    for pk in rows:
        assert shown[pk] == Enrollment.objects.get(pk=pk).next_step
    assert len(set(shown[pk] for pk in rows)) == 3  # print, submit, fill in


def test_a_list_on_one_page_is_not_counted(world):
    scope = portal_scope(world.holder)
    for i in range(3):
        enrollment_in(S.BEWERBER, offer=world.offer, institution=world.kita, holder=world.holder,
                      participant=make_child(world.holder))
    queryset = Enrollment.objects.filter(account_holder=world.holder).order_by("pk")
    with CaptureQueriesContext(connection) as captured:
        page = page_of(queryset, None, 3)
    assert len(captured) == 1 and page.paginator.count == 3 and not page.has_other_pages()
    assert len(portal_contracts(scope)) == 3
    enrollment_in(S.BEWERBER, offer=world.offer, institution=world.kita, holder=world.holder,
                  participant=make_child(world.holder))
    with CaptureQueriesContext(connection) as captured:
        page = page_of(queryset, "1", 3)
    assert len(captured) == 2 and page.paginator.num_pages == 2 and len(page.object_list) == 3
    # as Paginator.get_page: not a number -> the first page, beyond the end or below 1 -> the last
    for number, expected in (("x", 1), ("0", 2), ("9", 2), ("2", 2), ("", 1), ("²", 1)):
        page = page_of(queryset, number, 3)
        assert page.number == expected and list(page.object_list) == list(
            queryset[(expected - 1) * 3:expected * 3]), number


@pytest.mark.parametrize("who", ["holder", "participant_user", "former_psb1", "expired_guardian", "stranger"])
def test_the_scope_selects_what_the_portal_selectors_select(chat, who):
    start_enrollment_thread(chat)
    chat_svc.message_post(conversation=chat_svc.conversation_for_enrollment(enrollment=chat.enrollment,
                                                                             by=chat.holder),
                          by=chat.caseworker, body="Antwort", as_staff=True)
    Document.objects.create(enrollment=chat.enrollment, kind="other", title="Info",
                            owner=chat.participant_user.workpro_person)
    user = getattr(chat, who)
    scope = portal_scope(user)
    shown = {e.pk for e in portal_contracts(scope)} | {e.pk for e in portal_participations(scope)}
    assert shown == set(portal_enrollments(user).values_list("pk", flat=True))
    assert {e.pk for e in portal_participations(scope)}.isdisjoint({e.pk for e in portal_contracts(scope)})

    def row(e):
        return (e.pk, e.status, e.offer_title, e.institution_name, e.has_emergency_contact, e.allocation_outcome,
                e.created_at, e.participant_id and (e.participant.full_name, e.participant.date_of_birth))

    compiled = portal_contract_rows(scope)  # the compiled page queries read what the queryset reads
    assert [row(e) for e in compiled[0:50]] == [row(e) for e in portal_contracts(scope)]
    assert compiled.count() == portal_contracts(scope).count()
    assert portal_unread_documents(scope) == (portal_documents(user).filter(
        superseded=False, first_opened_at__isnull=True).exclude(uploaded_by=user).count())
    assert portal_unread_total(user, scope) == sum(c.unread for c in portal_conversations(user))
    with CaptureQueriesContext(connection) as captured:  # Mein Konto's navigation: both in one query
        both = portal_unread_counts(scope)
    assert both == (portal_unread_documents(scope), portal_unread_total(user, scope))
    assert len(captured) == (1 if user.is_authenticated else 0)


def test_the_unread_counts_change_at_once(chat, client):  # noqa: F811
    """Nothing is cached: a new message, a read thread, a new document show on the next page view."""
    client.force_login(chat.holder)
    conversation = start_enrollment_thread(chat)

    def counts():
        context = client.get("/workpro/konto/", **HOST).context
        return context["chat_unread"], context["unread_documents"]

    assert counts() == (0, 0)  # one's own message is read
    chat_svc.message_post(conversation=conversation, by=chat.caseworker, body="Termin?", as_staff=True)
    assert counts() == (1, 0)
    Document.objects.create(enrollment=chat.enrollment, kind="other", title="Info")
    assert counts() == (1, 1)
    client.get(f"/workpro/konto/nachrichten/{conversation.pk}/", **HOST)
    assert counts() == (0, 1)
