"""Mail- und SMS-Texte and Vertragsbedingungen in the admin (#23): scope, permission, bad input, preview."""

import json

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from tests.factories import enrollment_in
from workpro_plugin.models import ContractTerms, Enrollment, MailText

pytestmark = pytest.mark.django_db
S = Enrollment.Status


def edit_url(institution, event="invited"):
    return reverse("workpro_admin:text_edit", args=[institution.pk, event])


def terms_url(institution):
    return reverse("workpro_admin:terms_edit", args=[institution.pk])


def _post(**fields):
    data = {f"{f}_{lang}": "" for f in ("subject", "body") for lang in ("de", "en")}
    data.update(fields)
    return data


def test_leitung_lists_its_institutions_events_with_placeholders(world, client):
    client.force_login(world.staff)
    index = client.get(reverse("workpro_admin:texts_index"))
    assert index.status_code == 200
    page = index.content.decode()
    assert "Einladung" in page and world.kita.name in page and world.other.name not in page
    form = client.get(edit_url(world.kita))
    page = form.content.decode()
    assert form.status_code == 200
    assert "{{ termin_ort }}" in page and "Ort des Gesprächs" in page  # the placeholders beside the form
    assert "{{ kosten }}" not in page  # not a placeholder of the invitation
    # the form starts from the plugin's text, written with placeholders
    assert "Einladung zum persönlichen Gespräch: {{ angebot }}" in page


def test_scope_and_permission(world, client):
    client.force_login(world.staff)
    assert client.get(edit_url(world.other)).status_code == 404
    assert client.get(terms_url(world.other)).status_code == 404
    assert client.get(edit_url(world.kita, "gibt_es_nicht")).status_code == 404
    client.force_login(world.caseworker)  # Sachbearbeitung without "edit_texts"
    assert client.get(reverse("workpro_admin:texts_index")).status_code == 404
    refused = client.get(edit_url(world.kita))
    assert refused.status_code == 302 and "texte" not in refused["Location"]
    world.kita.staff_group.permissions.add(Permission.objects.get(codename="edit_texts"))
    assert client.get(edit_url(world.kita)).status_code == 200


def test_a_broken_placeholder_is_refused_next_to_the_field_and_nothing_is_lost(world, client):
    client.force_login(world.staff)
    typed = "Hallo {{ vorname }}, bis {{ termin_datum|date }}"
    response = client.post(edit_url(world.kita), _post(subject_de="Einladung {{ Vorname }}", body_de=typed))
    assert response.status_code == 400
    page = response.content.decode()
    assert "Den Platzhalter {{ Vorname }} gibt es für diesen Text nicht" in page
    assert "fehlerhaft geschrieben" in page
    assert "Hallo {{ vorname }}, bis {{ termin_datum|date }}" in page  # what was typed is still there
    assert not MailText.objects.exists()


def test_saving_and_preview(world, client):
    enrollment = enrollment_in(S.EINGELADEN, offer=world.offer, institution=world.kita, holder=world.holder)
    client.force_login(world.staff)
    data = _post(subject_de="Kennenlernen {{ vorname }}", body_de="Wir sehen uns am {{ termin }}.",
                 preview_enrollment=str(enrollment.pk), preview_language="de")
    preview = client.post(edit_url(world.kita), {**data, "preview": "1"})
    assert preview.status_code == 200 and not MailText.objects.exists()
    page = preview.content.decode()
    assert f"Kennenlernen {enrollment.participant.first_name}" in page and "Wir sehen uns am " in page
    saved = client.post(edit_url(world.kita), data)
    assert saved.status_code == 302
    row = MailText.objects.get()
    assert (row.institution, row.event, row.language, row.subject) == (
        world.kita, "invited", "de", "Kennenlernen {{ vorname }}")
    # a preview cannot pick another institution's enrollment
    foreign = enrollment_in(S.EINGELADEN, offer=world.offer, institution=world.other, holder=world.stranger)
    response = client.post(edit_url(world.kita), {**data, "preview": "1", "preview_enrollment": str(foreign.pk)})
    assert response.status_code == 400 and foreign.participant.full_name not in response.content.decode()


def _contentstate(text):
    return json.dumps({"blocks": [{"key": "a1b2c", "type": "unstyled", "depth": 0, "text": text,
                                   "inlineStyleRanges": [], "entityRanges": []}], "entityMap": {}})


def test_terms_are_edited_with_the_rich_text_editor(world, client):
    client.force_login(world.staff)
    page = client.get(terms_url(world.kita))
    assert page.status_code == 200 and "Hausordnung" in page.content.decode()
    saved = client.post(terms_url(world.kita), {"contract": _contentstate("Kündigung mit Monatsfrist."),
                                                "house_rules": _contentstate(""), "fee_rules": ""})
    assert saved.status_code == 302
    assert "Kündigung mit Monatsfrist." in ContractTerms.objects.get(institution=world.kita).contract


@pytest.mark.parametrize("value", ["<p>kein JSON</p>", "{", json.dumps({"blocks": "x"}), "x" * 200_000])
def test_terms_bad_input_is_no_server_error(world, client, value):
    client.force_login(world.staff)
    response = client.post(terms_url(world.kita), {"contract": value, "house_rules": "", "fee_rules": ""})
    assert response.status_code in (200, 302, 400)
