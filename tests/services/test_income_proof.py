"""Einkommensnachweis (#20): the upload as the next step, staff see it arrive, and the maximum rate after
ratification with an Änderungsmitteilung and the fee history."""

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from pypdf import PdfReader

from tests.factories import enrollment_in, make_child, pdf_bytes
from workpro_plugin.models import Document, Enrollment, FeeBracket, FeePeriod, FeeSchedule
from workpro_plugin.services import enrollments as svc
from workpro_plugin.services.documents import UploadError

pytestmark = pytest.mark.django_db
S = Enrollment.Status
TODAY = timezone.localdate()


@pytest.fixture
def contract(world):
    schedule = FeeSchedule.objects.create(name="Beiträge", maximum_rate=Decimal("400"))
    FeeBracket.objects.create(schedule=schedule, income_from=0, income_to=None, amount=Decimal("150"))
    world.offer.fee_schedule = schedule
    world.offer.save()
    child = make_child(world.holder, first_name="Lena")
    enrollment = enrollment_in(S.RATIFIZIERT, offer=world.offer, institution=world.kita, holder=world.holder,
                               participant=child)
    Enrollment.objects.filter(pk=enrollment.pk).update(
        contract_number="KITA-2026-00007", costs=Decimal("150"), costs_reason="", contract_start=TODAY.replace(day=1),
        contract_end=TODAY + timedelta(days=400))
    enrollment.refresh_from_db()
    return enrollment


def _long(day: date) -> str:
    with translation.override("de"):
        return date_format(day, "DATE_FORMAT")


def _upload(name="nachweis.pdf", content=None):
    return SimpleUploadedFile(name, content or pdf_bytes(), content_type="application/pdf")


def test_ratified_contract_without_proof_gets_the_maximum_rate_from_next_month(world, contract, run_on_commit):
    with run_on_commit():
        svc.enrollment_request_proof(enrollment=contract, by=world.staff, deadline=TODAY + timedelta(days=10))
    contract.refresh_from_db()
    assert contract.next_step == "Einkommensnachweis hochladen" and contract.current_deadline == contract.proof_deadline
    later = timezone.now() + timedelta(days=11)
    with run_on_commit(), time_machine.travel(later):
        assert svc.apply_overdue_proofs() == 1
        assert svc.apply_overdue_proofs() == 0
    contract.refresh_from_db()
    first = svc.first_of_next_month(timezone.localdate(later))
    assert contract.proof_overdue and contract.costs == Decimal("400")
    history = list(FeePeriod.objects.filter(enrollment=contract).values_list("starts_on", "amount"))
    assert history == [(contract.contract_start, Decimal("150")), (first, Decimal("400"))]
    notice = Document.objects.get(enrollment=contract, kind=Document.Kind.CHANGE_NOTICE)
    with notice.file.open("rb") as handle:
        text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(handle.read())).pages)
    assert "Änderungsmitteilung" in text and "400,00" in text and _long(first) in text
    sent = mail.outbox[-1]
    assert sent.subject == "Änderungsmitteilung: Krippenplatz" and _long(first) in sent.body and "400" in sent.body
    assert any(name.endswith(".pdf") for name, *_ in sent.attachments)


def test_an_uploaded_proof_waits_for_staff_and_is_seen_in_the_admin(client, world, contract, run_on_commit):
    svc.enrollment_request_proof(enrollment=contract, by=world.staff, deadline=TODAY + timedelta(days=10))
    with pytest.raises(UploadError):
        svc.enrollment_upload_proof(enrollment=contract, by=world.holder,
                                    upload=_upload("x.pdf", b"MZ\x90\x00 not a pdf"))
    with pytest.raises(svc.EnrollmentActionError):
        svc.enrollment_upload_proof(enrollment=contract, by=world.stranger, upload=_upload())
    document = svc.enrollment_upload_proof(enrollment=contract, by=world.holder, upload=_upload())
    contract.refresh_from_db()
    assert document.kind == Document.Kind.PROOF and not contract.proof_due and contract.proof_outstanding
    with time_machine.travel(timezone.now() + timedelta(days=11)):
        assert svc.apply_overdue_proofs() == 0  # uploaded in time: staff decide
    client.force_login(world.staff)
    page = client.get(reverse("workpro_plugin_enrollment_modeladmin_inspect", args=[contract.pk]),
                      HTTP_HOST="kita.test").content.decode()
    assert reverse("workpro:document", args=[document.pk]) in page and "Nachweis erhalten" in page
    assert "Beitragsverlauf" in page
    svc.enrollment_receive_proof(enrollment=contract, by=world.staff)
    contract.refresh_from_db()
    assert not contract.proof_outstanding and contract.costs == Decimal("150")


def test_mein_konto_shows_the_proof_as_next_step_with_deadline_and_upload(client, world, contract):
    svc.enrollment_request_proof(enrollment=contract, by=world.staff, deadline=TODAY + timedelta(days=10))
    client.force_login(world.holder)
    overview = client.get(reverse("workpro:account"), HTTP_HOST="kita.test").content.decode()
    assert "Einkommensnachweis hochladen" in overview and _long(TODAY + timedelta(days=10)) in overview
    detail = client.get(reverse("workpro:enrollment_detail", args=[contract.pk]), HTTP_HOST="kita.test")
    text = detail.content.decode()
    assert reverse("workpro:enrollment_proof", args=[contract.pk]) in text and "Beitragsverlauf" in text
    bad = client.post(reverse("workpro:enrollment_proof", args=[contract.pk]),
                      {"file": _upload("x.pdf", b"<html>no</html>")}, HTTP_HOST="kita.test")
    assert bad.status_code == 400
    ok = client.post(reverse("workpro:enrollment_proof", args=[contract.pk]), {"file": _upload()},
                     HTTP_HOST="kita.test")
    assert ok.status_code == 302
    text = client.get(reverse("workpro:enrollment_detail", args=[contract.pk]), HTTP_HOST="kita.test").content.decode()
    assert "die Einrichtung prüft ihn" in text
    client.force_login(world.stranger)
    assert client.get(reverse("workpro:enrollment_proof", args=[contract.pk]), HTTP_HOST="kita.test").status_code == 404


def test_fee_history_is_visible_to_the_parent_after_the_change(client, world, contract, run_on_commit):
    svc.enrollment_request_proof(enrollment=contract, by=world.staff, deadline=TODAY + timedelta(days=1))
    with run_on_commit(), time_machine.travel(timezone.now() + timedelta(days=3)):
        svc.apply_overdue_proofs()
    client.force_login(world.holder)
    text = client.get(reverse("workpro:enrollment_detail", args=[contract.pk]), HTTP_HOST="kita.test").content.decode()
    assert "Beitragsverlauf" in text and "400,00" in text and "150,00" in text and "Höchstsatz" in text
    assert Document.objects.filter(enrollment=contract, kind=Document.Kind.CHANGE_NOTICE).exists()
