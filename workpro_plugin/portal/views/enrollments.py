"""Portal views of one enrollment: participant, sections, print, submit, accept, documents."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ...access import PortalRole
from ...lib.paging import page_of, with_links
from ...lib.questions import (
    QUESTION_SECTION_LABELS,
    QUESTION_SECTIONS,
    QuestionsForm,
    questions_of_section,
)
from ...lib.sections import SIMPLE_FORMS, EarnerFormSet, GuardianFormSet, omit_questions, to_json
from ...models import ApplicationSection, Document, Enrollment, EnrollmentSection, OfferPage
from ...selectors.allocation import portal_allocation, waiting_ranks
from ...selectors.chat import portal_unread_counts
from ...selectors.documents import portal_documents
from ...selectors.enrollments import (
    portal_contract_rows,
    portal_participations,
    portal_scope,
    status_label,
    with_row_relations,
)
from ...selectors.fees import fee_history
from ...selectors.sites import institution_for_request
from ...services import applications as app_svc
from ...services import enrollments as svc
from ...services.documents import UploadError, render_application_pdf
from ...services.minors import care_missing, care_required, outstanding_care, with_login_refusals
from ...shared.files import refresh_while_pending
from ..forms.accounts import RecoveryDataForm
from ..forms.enrollments import DocumentUploadForm, ParticipantChoiceForm, SignedUploadForm
from ..shortcuts import HOLDER, LOGIN_URL, enrollment_or_404

SECTION_LABELS = {**dict(ApplicationSection.choices), **QUESTION_SECTION_LABELS}


def section_menu(enrollment: Enrollment) -> list[dict]:
    """The steps of the application with their state, for the menu (the "drei Querstriche")."""
    plan = enrollment.section_plan()
    stored = {s.section: s for s in enrollment.sections.all()}
    editable = set(app_svc.editable_sections(enrollment))
    return [
        {"code": code, "label": SECTION_LABELS.get(code, code), "phase": plan[code],
         "complete": bool(stored.get(code) and stored[code].is_complete), "editable": code in editable}
        for code in enrollment.required_sections()
    ]


@login_required(login_url=LOGIN_URL)
def offer_enroll(request, offer_id: int):
    """"Zum Angebot anmelden" on an offer page: choose the participant; the enrollment is created only then.

    The offer page's button (a POST without a choice, or a GET) shows the choice; an existing interest
    without participant (from the registration) is completed by the choice rather than duplicated.
    """
    offer = get_object_or_404(OfferPage.objects.live(), pk=offer_id)
    state = offer.registration_state()
    if not state.is_open:
        messages.error(request, str(state.reason))
        return redirect(offer.get_url(request))
    bound = request.method == "POST" and ParticipantChoiceForm.MARKER in request.POST
    return _choose_participant(request, offer, None, bound)


@login_required(login_url=LOGIN_URL)
def enrollment_participant(request, pk: int):
    enrollment, _role = enrollment_or_404(request, pk, roles=HOLDER)
    if enrollment.participant_id:
        return redirect("workpro:enrollment_detail", pk=pk)
    return _choose_participant(request, enrollment.offer.specific, enrollment, request.method == "POST")


def _choose_participant(request, offer: OfferPage, enrollment: Enrollment | None, bound: bool):
    """The participant choice, for a new enrollment (`enrollment` None) or an interest without participant."""
    people = svc.participants_for(request.user)
    form = ParticipantChoiceForm(request.POST if bound else None, people=people)
    if bound and form.is_valid():
        data = form.cleaned_data
        try:
            if data["participant"] == form.NEW:
                child = {"by": request.user, "last_name": data["last_name"], "first_name": data["first_name"],
                         "date_of_birth": data["date_of_birth"], "relation": data["relation"]}
                enrollment = (svc.enrollment_start_new_child(offer=offer, **child) if enrollment is None
                              else svc.enrollment_enroll_new_child(enrollment=enrollment, **child))
            elif enrollment is None:
                enrollment = svc.enrollment_start(offer=offer, participant=form.people[data["participant"]],
                                                  by=request.user)
            else:
                enrollment = svc.enrollment_enroll_participant(
                    enrollment=enrollment, participant=form.people[data["participant"]], by=request.user)
        except svc.EnrollmentActionError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("%(name)s ist zum Angebot angemeldet. Vertragsnummer: %(number)s")
                             % {"name": enrollment.participant.full_name, "number": enrollment.contract_number})
            first = app_svc.editable_sections(enrollment)
            if first:
                return redirect("workpro:enrollment_section", pk=enrollment.pk, section=first[0])
            return redirect("workpro:enrollment_detail", pk=enrollment.pk)
    return render(request, "workpro_plugin/account/enrollment_participant.html",
                  {"offer": offer, "enrollment": enrollment, "form": form,
                   "action": request.path}, status=400 if form.errors else 200)


def _section_form(section: str, enrollment: Enrollment, data=None, files=None):
    """The bound or unbound form (or formset) of a section, with the stored draft as initial."""
    stored = EnrollmentSection.objects.filter(enrollment=enrollment, section=section).first()
    draft = stored.data if stored else {}
    if section in QUESTION_SECTIONS:
        return QuestionsForm(data, files, questions=questions_of_section(enrollment.question_definitions, section),
                             answers=draft.get("answers") or {})
    if section == "personal":
        initial = {**app_svc.personal_initial(enrollment), **(draft if stored and not stored.is_complete else {})}
        form = SIMPLE_FORMS[section](data, initial=initial,
                                     for_account_holder=enrollment.participant.user_id == enrollment.account_holder_id)
        return omit_questions(form, section, enrollment.offer.specific.omitted_question_list)
    if section in SIMPLE_FORMS:
        return omit_questions(SIMPLE_FORMS[section](data, initial=draft), section,
                              enrollment.offer.specific.omitted_question_list)
    if section == "guardians":
        initial = draft.get("guardians", []) if stored else app_svc.guardians_initial(enrollment)
        return GuardianFormSet(data, initial=initial, prefix="guardians")
    if section == "income":
        return EarnerFormSet(data, initial=draft.get("earners", []), prefix="earners")
    return None


def _json_of(section: str, form) -> dict:
    if section in SIMPLE_FORMS:
        return {name: to_json(value) for name, value in form.cleaned_data.items()}
    rows = [{k: to_json(v) for k, v in f.cleaned_data.items() if k != "DELETE"}
            for f in form.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
    return {"guardians" if section == "guardians" else "earners": rows}


def _raw_draft(section: str, form) -> dict:
    """What was typed, even if invalid: kept as a draft so nothing is lost.

    NUL characters are dropped: PostgreSQL refuses them in JSON (and a browser never sends them).
    """
    if section in SIMPLE_FORMS:
        return {name: form.data.get(name, "").replace("\x00", "") for name in form.fields}
    return {"raw": {k.replace("\x00", ""): v.replace("\x00", "") for k, v in form.data.items()
                    if k.startswith(form.prefix)}}


@login_required(login_url=LOGIN_URL)
def enrollment_section(request, pk: int, section: str):
    enrollment, _role = enrollment_or_404(request, pk, roles=HOLDER)
    menu = section_menu(enrollment)
    codes = [item["code"] for item in menu]
    if section not in codes:
        raise Http404
    editable = section in app_svc.editable_sections(enrollment)
    upload_form = DocumentUploadForm() if section == "uploads" else None
    posted = request.method == "POST" and editable
    form = _section_form(section, enrollment, request.POST if posted else None, request.FILES if posted else None)
    holder_form = None
    if section == "guardians":
        holder_form = RecoveryDataForm(request.POST if request.method == "POST" and editable else None,
                                       prefix="holder", person=getattr(request.user, "workpro_person", None))
    if request.method == "POST" and editable:
        if section == "uploads":
            upload_form = DocumentUploadForm(request.POST, request.FILES)
            title = request.POST.get("title", "")
            if upload_form.is_valid():
                try:
                    app_svc.section_upload(enrollment=enrollment, by=request.user, title=title,
                                           upload=upload_form.cleaned_data["file"])
                except (UploadError, svc.EnrollmentActionError) as exc:
                    upload_form.add_error("file", str(exc))
                else:
                    messages.success(request, _("„%(title)s“ wurde hochgeladen.") % {"title": title})
                    return redirect("workpro:enrollment_section", pk=pk, section=section)
        elif section in QUESTION_SECTIONS:
            if _save_questions(request, enrollment, section, form):
                return _after_save(request, enrollment, section, codes)
        elif form.is_valid() and (holder_form is None or holder_form.is_valid()):
            app_svc.section_save(enrollment=enrollment, by=request.user, section=section,
                                 data=_json_of(section, form), is_complete=True,
                                 holder=holder_form.cleaned_data if holder_form is not None else None)
            return _after_save(request, enrollment, section, codes)
        else:
            app_svc.section_save(enrollment=enrollment, by=request.user, section=section,
                                 data=_raw_draft(section, form), is_complete=False)
    context = {
        "enrollment": enrollment, "menu": menu, "section": section, "section_label": SECTION_LABELS[section],
        "form": form, "editable": editable, "upload_form": upload_form, "holder_form": holder_form,
        "participant": enrollment.participant,
    }
    if section == "income":
        context["fee"] = enrollment.computed_fee()
        context["fee_schedule"] = enrollment.offer.specific.fee_schedule
    if section == "uploads":
        current = {d.title: d for d in enrollment.documents.filter(kind=Document.Kind.UPLOAD, superseded=False)}
        context["required_documents"] = [(title, current.get(title))
                                         for title in enrollment.offer.specific.required_document_list]
    if section == "guardians":
        context["guardian_links"] = enrollment.participant.guardianships.select_related("guardian")
    status = 400 if request.method == "POST" and editable else 200
    return render(request, "workpro_plugin/account/enrollment_section.html", context, status=status)


def _after_save(request, enrollment: Enrollment, section: str, codes: list[str]):
    messages.success(request, _("Gespeichert."))
    following = codes[codes.index(section) + 1:]
    next_editable = [c for c in following if c in app_svc.editable_sections(enrollment)]
    if next_editable and "weiter" in request.POST:
        return redirect("workpro:enrollment_section", pk=enrollment.pk, section=next_editable[0])
    return redirect("workpro:enrollment_detail", pk=enrollment.pk)


def _save_questions(request, enrollment: Enrollment, section: str, form: QuestionsForm) -> bool:
    """Save valid answers (with their files); otherwise keep what was typed as a draft. True if saved."""
    if form.is_valid():
        try:
            app_svc.questions_save(enrollment=enrollment, by=request.user, section=section, answers=form.answers(),
                                   uploads=form.uploads(), is_complete=True)
        except app_svc.QuestionUploadError as exc:
            name = f"q_{exc.question_id}"
            form.add_error(name if name in form.fields else None, str(exc))
        except svc.EnrollmentActionError as exc:
            form.add_error(None, str(exc))
        else:
            return True
    try:
        app_svc.questions_save(enrollment=enrollment, by=request.user, section=section, answers=form.raw_answers(),
                               is_complete=False)
    except svc.EnrollmentActionError as exc:
        form.add_error(None, str(exc))
    return False


@login_required(login_url=LOGIN_URL)
@require_POST
def enrollment_print(request, pk: int):
    """Anmeldung drucken: the PDF opens in the browser; what was printed is remembered."""
    enrollment, _role = enrollment_or_404(request, pk, roles=HOLDER)
    if enrollment.participant_id is None:
        raise Http404
    svc.enrollment_mark_printed(enrollment=enrollment, by=request.user)
    enrollment.refresh_from_db()
    pdf = render_application_pdf(enrollment)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="Anmeldung-{enrollment.contract_number}.pdf"'
    response["Cache-Control"] = "no-store"
    return response


@login_required(login_url=LOGIN_URL)
@require_POST
def enrollment_submit(request, pk: int):
    enrollment, _role = enrollment_or_404(request, pk, roles=HOLDER)
    try:
        result = svc.enrollment_submit(enrollment=enrollment, by=request.user)
    except svc.EnrollmentActionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Die Anmeldung wurde abgesendet. Status: %(status)s. Sie erhalten sie zur "
                                    "Ablage auch per Mail.") % {"status": result.get_status_display()})
    return redirect("workpro:enrollment_detail", pk=pk)


@login_required(login_url=LOGIN_URL)
def enrollment_accept(request, pk: int):
    """Angebot annehmen: upload the signed contract before the deadline."""
    enrollment, _role = enrollment_or_404(request, pk, roles=HOLDER)
    form = SignedUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            svc.enrollment_upload_signed(enrollment=enrollment, by=request.user, files=form.cleaned_data["files"])
        except UploadError as exc:
            form.add_error("files", str(exc))
        except svc.EnrollmentActionError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Vielen Dank! Das unterschriebene Angebot ist hinterlegt. Status: Angenommen."))
            return redirect("workpro:enrollment_detail", pk=pk)
    return render(request, "workpro_plugin/account/enrollment_accept.html",
                  {"enrollment": enrollment, "form": form}, status=400 if form.errors else 200)


CONTRACTS_PER_PAGE = 10
# The wards table of Mein Konto ("Meine Kinder und Teilnehmer") has pages of its own, ?kinder=<n>.
WARDS_PER_PAGE = 10
WARDS_PAGE_PARAM = "kinder"


def _url_of(name: str):
    """`pk -> reverse(name, args=[pk])` with one reverse for a whole list (the pk is the only argument)."""
    marker = 2_147_483_647
    pattern = reverse(name, args=[marker])
    return lambda pk: pattern.replace(str(marker), str(pk))


@login_required(login_url=LOGIN_URL)
def account(request):
    """Mein Konto: Alle Verträge with the next step, the wards, the participant's own view, documents.

    Its queries do not grow with the contracts: the user's PortalScope (own Person, wards) is read once and
    every lookup selects by its ids; one page of contracts is read with the columns its rows show
    (portal_contracts), counted only when there is more than one page, and only the rows that need more
    (an application's data, Notfalldaten) read it, in a bounded number of queries (with_row_relations). The wards
    table shows one page of the scope's wards (?kinder=n); each list's page links keep the other's page."""
    scope = portal_scope(request.user)
    page = with_links(page_of(portal_contract_rows(scope), request.GET.get("seite"), CONTRACTS_PER_PAGE), request.GET)
    contracts = page.object_list
    care_rows = [enrollment for enrollment in contracts if care_required(enrollment)]
    with_row_relations(contracts, care_rows)
    detail_url, care_url = _url_of("workpro:enrollment_detail"), _url_of("workpro:care")
    labels = {}  # a status's label translated once, not per row
    for enrollment in contracts:
        enrollment.portal_role = (PortalRole.HOLDER if enrollment.account_holder_id == request.user.pk
                                  else PortalRole.GUARDIAN)
        if enrollment.status not in labels:
            labels[enrollment.status] = status_label(enrollment.status)
        enrollment.status_label = labels[enrollment.status]
        enrollment.care_missing = care_missing(enrollment) if enrollment in care_rows else []  # outstanding_care
        enrollment.detail_url, enrollment.care_url = detail_url(enrollment.pk), care_url(enrollment.pk)
    waiting_ranks(contracts)
    participations = [(row, detail_url(row.pk)) for row in portal_participations(scope)]
    wards_page = with_links(page_of(scope.ward_rows, request.GET.get(WARDS_PAGE_PARAM), WARDS_PER_PAGE),
                            request.GET, WARDS_PAGE_PARAM, fragment="#wards-heading")
    wards = with_login_refusals(wards_page.object_list)
    view_url, login_url, wishlist_url = (_url_of("workpro:participant_view"), _url_of("workpro:participant_login"),
                                         _url_of("workpro:wishlist"))
    for row in wards:
        row.view_url, row.login_url, row.wishlist_url = (view_url(row.participant_id), login_url(row.participant_id),
                                                         wishlist_url(row.participant_id))
    unread_documents, chat_unread = portal_unread_counts(scope)
    return render(request, "workpro_plugin/account/overview.html", {
        "institution": institution_for_request(request),
        "enrollments": contracts,
        "page": page,
        "participations": participations,
        "wards": wards,
        "wards_page": wards_page,
        "unread_documents": unread_documents,
        "chat_unread": chat_unread,
        "person": scope.person,
    })


@login_required(login_url=LOGIN_URL)
def enrollment_detail(request, pk: int):
    """One contract. The holder acts; a participant with own login and a former PSB1 only read."""
    enrollment, role = enrollment_or_404(request, pk)
    is_holder = role == PortalRole.HOLDER
    editable = app_svc.editable_sections(enrollment) if is_holder else []
    documents = list(portal_documents(request.user).filter(enrollment=enrollment, superseded=False))
    return refresh_while_pending(render(request, "workpro_plugin/account/enrollment_detail.html", {
        "enrollment": enrollment,
        "role": role,
        "is_holder": is_holder,
        "log_entries": enrollment.log_entries.select_related("by") if role != PortalRole.PARTICIPANT else [],
        "transitions": svc.available_transitions(enrollment, request.user) if is_holder else [],
        "menu": section_menu(enrollment) if enrollment.participant_id and is_holder else [],
        "editable_sections": editable,
        "print_outdated": bool(editable) and enrollment.printed_fingerprint != enrollment.data_fingerprint(),
        "documents": documents,
        "care_required": care_required(enrollment) and role != PortalRole.PARTICIPANT,
        "care_missing": outstanding_care(enrollment),
        "allocation": portal_allocation(enrollment) if role != PortalRole.PARTICIPANT else None,
        "proof_form": DocumentUploadForm() if is_holder and enrollment.proof_due else None,
        "fee_history": fee_history(enrollment) if role != PortalRole.PARTICIPANT else [],
    }), documents)


@login_required(login_url=LOGIN_URL)
def enrollment_proof(request, pk: int):
    """Einkommensnachweis hochladen: the answer to a proof request, before its deadline."""
    enrollment, _role = enrollment_or_404(request, pk, roles=HOLDER)
    form = DocumentUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            svc.enrollment_upload_proof(enrollment=enrollment, by=request.user, upload=form.cleaned_data["file"])
        except UploadError as exc:
            form.add_error("file", str(exc))
        except svc.EnrollmentActionError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Vielen Dank! Der Einkommensnachweis ist hinterlegt; die Einrichtung prüft "
                                        "ihn."))
            return redirect("workpro:enrollment_detail", pk=pk)
    return render(request, "workpro_plugin/account/enrollment_proof.html",
                  {"enrollment": enrollment, "form": form}, status=400 if form.errors else 200)


@login_required(login_url=LOGIN_URL)
@require_POST
def enrollment_withdraw(request, pk: int):
    enrollment, _role = enrollment_or_404(request, pk, roles=HOLDER)
    try:
        reason = request.POST.get("reason", "").replace("\x00", "")[:1000]  # PostgreSQL refuses NUL in text
        svc.enrollment_withdraw(enrollment=enrollment, by=request.user, reason=reason)
    except svc.EnrollmentActionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Die Anmeldung wurde zurückgezogen."))
    return redirect("workpro:enrollment_detail", pk=enrollment.pk)
