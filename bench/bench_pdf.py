"""Application and contract offer PDFs (WeasyPrint): median render time and peak memory."""

import io
import resource
import statistics
import time
import tracemalloc
from datetime import date, timedelta
from decimal import Decimal

from pypdf import PdfReader


def _timed(fn, repeat=15):
    fn()  # warm fonts and templates
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        timings.append((time.perf_counter() - started) * 1000)
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return statistics.median(timings), peak / 1024 / 1024


def run() -> None:
    from django.contrib.auth import get_user_model

    from tests.factories import complete_sections, make_child
    from workpro_plugin.models import Enrollment, EnrollmentSection, OfferPage
    from workpro_plugin.services import enrollments as svc
    from workpro_plugin.services.documents import render_application_pdf, render_contract_offer_pdf
    from workpro_site.demo import load_demo

    load_demo(port=8000)
    parent = get_user_model().objects.get(username="eltern@example.org")
    child = make_child(parent, first_name="Jörg", last_name="Müller-Lüdenscheidt", street="Gartenweg 3",
                       postcode="04109", city="Leipzig")
    enrollment = svc.enrollment_start(offer=OfferPage.objects.get(slug="krippenplatz"), participant=child, by=parent)
    complete_sections(enrollment, phase=2, income=31500)
    EnrollmentSection.objects.filter(enrollment=enrollment, section="health").update(
        data={"allergies": "Nüsse, Laktose", "diet": "vegetarisch", "notes": "Mittagsschlaf", "confirmed": True})
    Enrollment.objects.filter(pk=enrollment.pk).update(
        costs=Decimal("150"), contract_start=date.today() + timedelta(days=30),
        contract_end=date.today() + timedelta(days=395), signed_copy_deadline=date.today() + timedelta(days=14))
    enrollment.refresh_from_db()
    for label, fn in [("application PDF", lambda: render_application_pdf(enrollment)),
                      ("contract offer PDF", lambda: render_contract_offer_pdf(enrollment))]:
        median, peak = _timed(fn)
        pages = len(PdfReader(io.BytesIO(fn())).pages)
        print(f"   {label:<48} median {median:7.1f} ms   peak Python heap {peak:6.1f} MB   ({pages} pages)")
    _signing(enrollment)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"   {'process peak RSS after rendering':<48} {rss:7.1f} MB")


def _signing(enrollment) -> None:
    """The Angebot's signature next to its rendering, measured interleaved (render, sign, render, ...):
    issue #19's goal is that signing adds less than 25 % to the rendering time."""
    import os

    from django.core.files.base import ContentFile

    from workpro_plugin.services import documents, pades, signatures

    institution = enrollment.institution
    if not signatures.can_sign(institution):  # the bench settings have no demo CA: make a throw-away key
        os.environ.setdefault("WORKPRO_SIGNING_PASSWORD", "bench")
        key = pades.demo_pkcs12(pades.demo_ca(), common_name=institution.name,
                                     organisation=institution.operator.name, password=b"bench")
        os.environ[signatures.password_env_names(institution)[-2]] = "bench"
        institution.signing_certificate.save("bench.p12", ContentFile(key), save=True)
    lead = institution.lead_group.user_set.first()
    who = documents.signatory(institution, lead)
    content = documents.render_contract_offer_pdf(enrollment, by=lead, sign=False)
    signatures.sign_pdf(content, institution=institution, signatory=who, reason="warm", field_name="warm")
    rendering, signing = [], []
    for _ in range(15):
        started = time.perf_counter()
        content = documents.render_contract_offer_pdf(enrollment, by=lead, sign=False)
        rendering.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        signatures.sign_pdf(content, institution=institution, signatory=who, reason="bench", field_name="bench")
        signing.append((time.perf_counter() - started) * 1000)
    render_ms, sign_ms = statistics.median(rendering), statistics.median(signing)
    print(f"   {'contract offer: rendering (interleaved)':<48} median {render_ms:7.1f} ms")
    print(f"   {'contract offer: PAdES signature (pyHanko)':<48} median {sign_ms:7.1f} ms   "
          f"(+{100 * sign_ms / render_ms:.0f} % of rendering; goal < 25 %)")
