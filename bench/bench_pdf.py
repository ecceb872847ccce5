"""Application and contract offer PDFs (WeasyPrint): median render time and peak memory (process RSS).

Memory is the peak resident set size one rendering adds (VmHWM reset before it), which includes
WeasyPrint's C libraries (Pango, HarfBuzz) that tracemalloc cannot see.
"""

import io
import statistics
import time
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone
from pypdf import PdfReader

from bench.util import load_average, reset_peak_rss, rss_mib


def _timed(cases: dict, repeat=15) -> dict:
    """Each case's median ms and largest RSS peak above the RSS before it, measured interleaved (A B A B)."""
    reset_peak_rss()
    before, _ = rss_mib()
    for fn in cases.values():
        fn()  # warm fonts and templates
    _, peak = rss_mib()
    print(f"   {'first renderings (fonts, templates) add':<48} peak +{peak - before:6.1f} MiB process RSS")
    timings = {label: [] for label in cases}
    peaks = {label: 0.0 for label in cases}
    for _ in range(repeat):
        for label, fn in cases.items():
            can_reset = reset_peak_rss()
            before, _ = rss_mib()
            started = time.perf_counter()
            fn()
            timings[label].append((time.perf_counter() - started) * 1000)
            _, peak = rss_mib()
            if can_reset:
                peaks[label] = max(peaks[label], peak - before)
    return {label: (statistics.median(timings[label]), peaks[label]) for label in cases}


def run() -> None:
    from django.contrib.auth import get_user_model

    from tests.factories import complete_sections, make_child
    from workpro_plugin.models import Enrollment, EnrollmentSection, OfferPage
    from workpro_plugin.services import enrollments as svc
    from workpro_plugin.services.documents import render_application_pdf, render_contract_offer_pdf
    from workpro_site.demo import load_demo

    load_demo(port=8000)
    # A copy of the demo's Krippenplatz without a place limit: the other bench modules share this database
    # and may have filled the original, and main refuses place-taking transitions beyond capacity.
    krippe = OfferPage.objects.get(slug="krippenplatz")
    offer = OfferPage.objects.filter(slug="bench-pdf-krippenplatz").first()
    if offer is None:
        offer = krippe.copy(to=krippe.get_parent(), update_attrs={
            "slug": "bench-pdf-krippenplatz", "title": "Krippenplatz (Bench)", "capacity": None})
    parent = get_user_model().objects.get(username="eltern@example.org")
    child = make_child(parent, first_name="Jörg", last_name="Müller-Lüdenscheidt", street="Gartenweg 3",
                       postcode="04109", city="Leipzig")
    enrollment = svc.enrollment_start(offer=offer, participant=child, by=parent)
    complete_sections(enrollment, phase=2, income=31500)
    EnrollmentSection.objects.filter(enrollment=enrollment, section="health").update(
        data={"allergies": "Nüsse, Laktose", "diet": "vegetarisch", "notes": "Mittagsschlaf", "confirmed": True})
    Enrollment.objects.filter(pk=enrollment.pk).update(
        costs=Decimal("150"), contract_start=timezone.localdate() + timedelta(days=30),
        contract_end=timezone.localdate() + timedelta(days=395), signed_copy_deadline=timezone.localdate() + timedelta(days=14))
    enrollment.refresh_from_db()
    print(f"   {load_average()}")
    cases = {"application PDF": lambda: render_application_pdf(enrollment),
             "contract offer PDF": lambda: render_contract_offer_pdf(enrollment)}
    for label, (median, peak) in _timed(cases).items():
        pages = len(PdfReader(io.BytesIO(cases[label]())).pages)
        print(f"   {label:<48} median {median:7.1f} ms   peak +{peak:6.1f} MiB process RSS   ({pages} pages)")
    _signing(enrollment)
    current, peak = rss_mib()
    print(f"   {'process RSS after rendering (now / peak)':<48} {current:7.1f} / {peak:7.1f} MiB")


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
