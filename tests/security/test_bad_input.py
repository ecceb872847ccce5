"""Bad input on every public, portal and staff form (hypothesis): never a 500, never half-saved.

Each form (tests/form_table.py, listed below) is posted with its valid payload mutated field
by field: arbitrary text
(control characters, NUL, right-to-left marks, emoji), 100,000-character strings, numbers
as strings, several values for one key, a file where text belongs, missing fields and
unknown extra fields. For every example:

- the status is one a browser can live with (200, 302, 400, 403, 404, 405; 429 for a
  locked-out login), never a 500 (an exception in the view fails the example);
- a refused post (anything but a redirect) leaves the form's tables exactly as they were
  (row count and every column of every row); a form with errors comes back with 400, never
  200, and every message is German and on the page;
- a redirect stays on the site (no open redirect through any field);
- no string with NUL reaches the database: SQLite stores it, PostgreSQL refuses it
  (a 500 in production), so the test makes SQLite as strict as PostgreSQL.

Every example runs in a savepoint that is rolled back, so examples do not see each other;
the world (tests/form_world.py) is built once per module. The pages that read query strings
(offer filter, paging, chat polling) get the same values as GET parameters. Each form's
valid payload is posted first and must succeed, so a refusal is the mutation's doing.
Examples per form are printed; WORKPRO_FUZZ_SCALE multiplies them for a longer run.

| form (id)                 | URL name                              | user         | must not change when refused                       |
|---------------------------|---------------------------------------|--------------|----------------------------------------------------|
| register                  | offer page (Wagtail), POST            | anonymous    | User, Person, Enrollment, Consent, OutboxMessage   |
| login                     | workpro:login                         | anonymous    | User, Person                                       |
| password_request          | workpro:password_request              | anonymous    | User, Person, OutboxMessage                        |
| set_password              | workpro:set_password                  | holder       | User, Person                                       |
| contact_data              | workpro:contact_data                  | holder       | User, Person, OutboxMessage                        |
| withdraw                  | workpro:enrollment_withdraw           | holder       | Enrollment, EnrollmentLog                          |
| participant               | workpro:enrollment_participant        | holder       | Person, Guardian, Enrollment                       |
| section_personal …_uploads| workpro:enrollment_section            | holder       | Person, Guardian, Document (drafts are kept: the   |
|                           |                                       |              | section is stored incomplete, never complete)      |
| accept                    | workpro:enrollment_accept             | holder       | Enrollment, Document                               |
| participant_login         | workpro:participant_login             | holder       | User, Person, OutboxMessage                        |
| care_emergency/_pickup    | workpro:care                          | holder       | EmergencyContact, PickupPerson, EnrollmentLog      |
| care_edit_emergency/…     | workpro:care_edit                     | holder       | EmergencyContact, PickupPerson, EnrollmentLog      |
| addon_book                | workpro:addon_book                    | holder       | AddonBooking, OutboxMessage                        |
| app_accept                | workpro:app_accept                    | holder       | AppAcceptance                                      |
| chat_thread/offer/…       | workpro:chat_thread, chat_offer,      | holder       | Conversation, Message, Document, OutboxMessage     |
|                           | chat_enrollment, chat_edit            |              |                                                    |
| data_export               | workpro:data_export                   | holder       | (read only: a ZIP or a 404)                        |
| admin_<action>            | workpro_admin:enrollment_action       | staff        | Enrollment, EnrollmentLog, Document, OutboxMessage |
| admin_offer_preview       | workpro_admin:offer_preview           | staff        | Enrollment, Document                               |
| admin_bulk_invite/decide  | workpro_admin:bulk_invite, bulk_decide| staff        | Enrollment, EnrollmentLog, OutboxMessage           |
| admin_addon_confirm/…     | workpro_admin:addon_confirm, decline  | staff        | AddonBooking, Document, OutboxMessage              |
| admin_app_assign/revoke   | workpro_admin:app_assign, app_revoke  | staff        | AppAssignment                                      |
| admin_chat_*              | workpro_chat:thread, assign, hide,    | staff        | Conversation, Message, ConversationEvent, Document |
|                           | edit, enrollment_reply                |              |                                                    |
| admin_2fa_setup/verify    | workpro_admin:two_factor_setup/verify | admin users  | TOTPDevice                                         |
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import Counter

import pytest
from django.contrib.auth import SESSION_KEY
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.forms import BaseForm, BaseFormSet
from django.urls import reverse
from django.utils.html import escape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import form_world
from tests.form_table import FORMS, Form
from tests.helpers import HOST
from tests.security_figures import add
from workpro_plugin.models import EnrollmentSection

pytestmark = pytest.mark.django_db
EXAMPLES: Counter = Counter()
# More (or fewer) examples per form: WORKPRO_FUZZ_SCALE=10 for a long run before a release.
SCALE = float(os.environ.get("WORKPRO_FUZZ_SCALE", "1"))


# --- the mutations --------------------------------------------------------------------------

KEEP, MISSING, FILE = "keep", "missing", "file"
NASTY = [
    "", " ", "\x00", "a\x00b", "\r\nBcc: evil@example.org", "%0d%0aBcc:%20evil@example.org", "<script>alert(1)</script>",
    "' OR 1=1 --", "../../etc/passwd", "\u202eevil\u202c", "\u200b", "\ufeff", "🙂" * 5, "a\u0301\u0301\u0301",
    "٣٤٥٦٧", "１２３４５", "NaN", "-Infinity", "1e309", "-1", "0", "9" * 40, "0x1F", "2024-02-30", "31.12.1899",
    "9999-12-31", "0001-01-01", "24:61", "null", "[]", "{}", "true", "@", "a@b", "x" * 255, "\t\n\r\x0b\x0c",
    "/konto/\r\nSet-Cookie: a=b", "0", "home", str(2**63), str(-(2**63) - 1), "https://evil.example/",
    "/\\evil.example",
    "\U0010ffff", "\x7f\x80\x9f", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "مرحبا", "שלום", "javascript:alert(1)", "//evil.example",
]
text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=40)
class Huge(str):
    """100,000 characters that print short in hypothesis' reports."""

    def __repr__(self):
        return f"Huge({self[:1]!r} * {len(self)})"


huge = st.sampled_from(["x", "ä", "🙂", "\x00", "9", " ", "\u202e"]).map(lambda ch: Huge(ch * 100_000))
numbers = st.one_of(st.integers(min_value=-10**30, max_value=10**30), st.floats(), st.decimals()).map(str)
value = st.one_of(text, huge, numbers, st.sampled_from(NASTY))
mutation = st.one_of(
    st.just(KEEP), st.just(KEEP), st.just(MISSING), st.just(FILE),
    value.map(lambda v: ("set", v)),
    st.lists(value, min_size=2, max_size=4).map(lambda vs: ("list", vs)),
)
rare_mutation = st.tuples(st.booleans(), st.booleans()).flatmap(lambda t: mutation if all(t) else st.just(KEEP))
extra_fields = st.dictionaries(st.text(min_size=1, max_size=12).filter(lambda k: "\x00" not in k), value, max_size=2)


def mutated(base: dict, names: tuple, plan: dict, extra: dict) -> dict:
    data = {}
    for name in names:
        action = plan.get(name, KEEP)
        if action == KEEP:
            if name in base:
                data[name] = base[name]
        elif action == FILE:
            data[name] = SimpleUploadedFile("anhang.txt", b"kein Text, sondern eine Datei")
        elif action == MISSING:
            continue
        else:
            data[name] = action[1]
    for key, extra_value in extra.items():
        data.setdefault(key, extra_value)
    return data


# --- guards ---------------------------------------------------------------------------------

def _rows(item):
    """A guarded item: a model (all columns) or (queryset, columns)."""
    if isinstance(item, tuple):
        queryset, columns = item
    else:
        queryset, columns = item.objects.all(), [f.attname for f in item._meta.concrete_fields]
    return list(queryset.order_by("pk").values_list(*columns))


def fingerprint(items) -> list:
    """Row count and a digest of every guarded column of every row."""
    result = []
    for item in items:
        rows = _rows(item)
        result.append((len(rows), hashlib.sha256(repr(rows).encode()).hexdigest()))
    return result


NUL_IN_JSON = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


def _strings(params):
    if isinstance(params, dict):
        params = params.values()
    for param in params or ():
        if isinstance(param, (list, tuple)):
            yield from _strings(param)
        elif isinstance(param, str):
            yield param


def refuse_nul(execute, sql, params, many, context):
    """PostgreSQL refuses NUL in text and \\u0000 in jsonb; SQLite stores both. Be PostgreSQL."""
    if sql.lstrip().upper().startswith(("INSERT", "UPDATE")):
        for param in _strings(params):
            assert "\x00" not in param and not NUL_IN_JSON.search(param), (
                f"NUL reaches the database (PostgreSQL would answer with a 500): {sql[:80]}")
    return execute(sql, params, many, context)


ENGLISH = ("This field is required", "Enter a valid", "Ensure this value", "Select a valid choice",
           "Please submit", "No file was submitted", "The submitted file is empty", "Enter a number",
           "Enter a whole number", "ManagementForm data is missing")


def _messages(form) -> list[str]:
    # The honeypot is for bots: people never see the field, so nor its message.
    return [str(e) for name, errors in form.errors.items() for e in errors if name != HONEYPOT_FIELD]


def form_errors(response) -> list[str]:
    """The messages of every bound form, formset (and the apps page's error dict) on the page."""
    messages, contexts = [], response.context
    contexts = contexts if isinstance(contexts, list) else [contexts] if contexts is not None else []
    items = {id(v): v for context in contexts for v in context.flatten().values()}
    for item in items.values():
        if isinstance(item, BaseFormSet) and item.is_bound:
            messages += [str(e) for e in item.non_form_errors()]
            for form in item.forms:
                messages += _messages(form)
        elif isinstance(item, BaseForm) and item.is_bound:
            messages += _messages(item)
    for context in contexts:  # the apps page: {(app, person): message}
        errors = context.get("errors")
        if isinstance(errors, dict):
            messages += [str(m) for m in errors.values()]
    return messages


HONEYPOT_FIELD = "website"


class Rollback(Exception):
    pass


def login(client, user, w=None) -> None:
    """Log in outside the example's savepoint, and only when needed (a rolled-back example may have
    logged the client out, e.g. by changing the password). The user setting up 2FA has opened the
    mailed link in this session."""
    if user is None:
        client.cookies.clear()
    elif client.session.get(SESSION_KEY) != str(user.pk):
        client.force_login(user)
        if w is not None and user == w.admin_new:
            form_world.open_enrolment(client, w)


def _draft(w, form: Form):
    enrollment = getattr(w, form.draft[0])
    others = (EnrollmentSection.objects.filter(enrollment=enrollment).exclude(section=form.draft[1]),
              ["section", "data", "is_complete"])
    mine = EnrollmentSection.objects.filter(enrollment=enrollment, section=form.draft[1]).first()
    return others, mine


def run_example(form: Form, w, client, data: dict, seen: dict) -> None:
    """One post in a savepoint that is always rolled back; the status goes into `seen`."""
    login(client, getattr(w, form.user) if form.user else None, w)
    with transaction.atomic():
        cache.clear()  # rate limits (registration, password request) count per example
        guarded = list(form.guarded)
        if form.draft:
            others, draft_before = _draft(w, form)
            guarded.append(others)
        before = fingerprint(guarded)
        with connection.execute_wrapper(refuse_nul):
            response = client.post(form.url(w), data, **HOST)
        status = seen["status"] = response.status_code
        seen["errors"] = form_errors(response)
        # Bad input is answered with 400 (and the form again), not with a 200 that looks like success.
        assert not (status == 200 and seen["errors"]), f"{form.id}: errors with a 200: {str(seen['errors'])[:300]}"
        assert status in form.statuses, f"{form.id}: status {status}"
        if status in (301, 302):
            location = response["Location"]
            assert location.startswith("/") and not location.startswith(("//", "/\\")), location
        else:
            assert fingerprint(guarded) == before, f"{form.id}: refused with {status}, but data changed"
            if form.draft:
                draft_after = _draft(w, form)[1]
                if draft_after != draft_before or (draft_after and draft_after.data != draft_before.data):
                    # What was typed is kept as a draft, never as a complete section.
                    assert not draft_after.is_complete, draft_after.data
        if status == 400 and response.get("Content-Type", "").startswith("text/html") and response.context:
            messages = seen["errors"]
            assert messages or data.get(HONEYPOT_FIELD), f"{form.id}: a 400 page without a message"
            page = response.content.decode()
            for message in messages:
                assert not message.startswith(ENGLISH), message
                assert escape(message)[:40] in page, f"{form.id}: message not shown: {message[:200]}"
        raise Rollback


@pytest.fixture
def forms_world(module_world, db):
    return module_world


def _run(form, w, client, data) -> dict:
    seen = {}
    try:
        run_example(form, w, client, data, seen)
    except Rollback:
        pass
    return seen


@pytest.mark.parametrize("form", FORMS, ids=[f.id for f in FORMS])
def test_bad_input_never_500_never_half_saved(form, forms_world, client):
    w = forms_world
    # The valid payload passes: otherwise every mutation would be refused for another reason.
    valid = _run(form, w, client, form.payload(w))
    assert valid["status"] == form.valid_status, valid
    names = tuple(dict.fromkeys([*form.payload(w), *form.fields]))
    statuses = Counter()

    @settings(max_examples=max(1, int(form.examples * SCALE)), deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                     HealthCheck.data_too_large, HealthCheck.filter_too_much])
    @given(plan=st.fixed_dictionaries({name: rare_mutation if name in form.stable else mutation for name in names}),
           extra=extra_fields)
    def example(plan, extra):
        statuses[_run(form, w, client, mutated(form.payload(w), names, plan, extra))["status"]] += 1

    example()
    count = sum(statuses.values())
    EXAMPLES[form.id] = count
    assert count >= min(int(form.examples * SCALE), 10), count
    add("bad-input examples run", count)
    add("bad-input forms fuzzed")
    print(f"[bad input] {form.id}: {count} examples, statuses {dict(sorted(statuses.items()))}")


# --- query strings of the pages that read them (the public offer filter, paging, polling) -----------

QUERIES = [
    ("offer_index", lambda w: w.offer.get_parent().relative_url(w.kita.site), None,
     ("q", "kategorie", "alter", "beginn_ab", "freie_plaetze", "offen", "seite")),
    ("chat_list", lambda w: reverse("workpro:chat_list"), "holder", ("seite",)),
    ("chat_thread", lambda w: reverse("workpro:chat_thread", args=[w.conversation.pk]), "holder", ("vor",)),
    ("chat_poll", lambda w: reverse("workpro:chat_poll", args=[w.conversation.pk]), "holder", ("nach", "seit")),
    ("document", lambda w: reverse("workpro:document", args=[w.e_angebot.documents.first().pk]), "holder",
     ("download",)),
    ("admin_chat_inbox", lambda w: reverse("workpro_chat:inbox"), "staff",
     ("angebot", "status", "zugewiesen", "ungelesen", "p")),
    ("admin_chat_thread", lambda w: reverse("workpro_chat:thread", args=[w.conversation.pk]), "staff", ("vor",)),
    ("admin_chat_poll", lambda w: reverse("workpro_chat:poll", args=[w.conversation.pk]), "staff",
     ("nach", "seit")),
    ("admin_offer_preview", lambda w: reverse("workpro_admin:offer_preview", args=[w.e_eing.pk]), "staff",
     ("costs", "contract_start", "contract_end", "deadline")),
]
query_value = st.one_of(value, st.lists(value, min_size=2, max_size=3))


@pytest.mark.parametrize(("name", "url", "user", "params"), QUERIES, ids=[q[0] for q in QUERIES])
def test_query_strings_never_500(name, url, user, params, forms_world, client):
    w = forms_world
    statuses = Counter()

    @settings(max_examples=max(1, int(20 * SCALE)), deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                     HealthCheck.data_too_large])
    @given(query=st.dictionaries(st.sampled_from(params), query_value, max_size=len(params)))
    def example(query):
        try:
            login(client, getattr(w, user) if user else None)
            with transaction.atomic():
                cache.clear()
                with connection.execute_wrapper(refuse_nul):
                    response = client.get(url(w), query, **HOST)
                assert response.status_code in {200, 204, 302, 400, 404}, response.status_code
                statuses[response.status_code] += 1
                raise Rollback
        except Rollback:
            pass

    example()
    count = sum(statuses.values())
    EXAMPLES[f"query:{name}"] = count
    add("bad-input examples run", count)
    print(f"[bad input] query {name}: {count} examples, statuses {dict(sorted(statuses.items()))}")


@pytest.mark.parametrize("postcode", ["١٢٣٤٥", "１２３４５", "12345\n", "1234５"])
def test_postcode_is_five_ascii_digits(forms_world, client, postcode):
    """Python's \\d matches the digits of every script (accepted without complaint by the fuzzing above): not a German PLZ."""
    client.force_login(forms_world.holder)
    response = client.post(reverse("workpro:contact_data"), {
        "email": forms_world.holder.email, "postcode": postcode, "language": "de"}, **HOST)
    assert response.status_code == 400
    assert escape("Bitte eine fünfstellige Postleitzahl eingeben.") in response.content.decode()
    forms_world.holder.workpro_person.refresh_from_db()
    assert forms_world.holder.workpro_person.postcode != postcode
