"""The demo's console mail: the text part and the attachments' names, never base64."""

import io

from django.core.mail import EmailMultiAlternatives

from workpro_site.mail import EmailBackend


def test_console_mail_prints_the_text_part_and_lists_attachments():
    stream = io.StringIO()
    message = EmailMultiAlternatives("Anmeldung eingegangen: Krippenplatz", "Guten Tag Frau Beispiel,\nÜberblick …",
                                     "KiTa <noreply@kita.example>", ["eltern@example.org"])
    message.attach_alternative("<p>Guten Tag</p>" * 50, "text/html")
    message.attach("Anmeldung-KITA-2026-00001.pdf", b"%PDF-1.7" + b"\0" * 4000, "application/pdf")
    assert EmailBackend(stream=stream).send_messages([message]) == 1
    text = stream.getvalue()
    assert "Betreff: Anmeldung eingegangen: Krippenplatz" in text and "Mail an: eltern@example.org" in text
    assert "Guten Tag Frau Beispiel,\nÜberblick …" in text
    assert "[Anhang: Anmeldung-KITA-2026-00001.pdf (application/pdf, 3.9 KB)]" in text
    assert "base64" not in text and "<p>" not in text and "Content-Transfer-Encoding" not in text


def test_the_demo_settings_use_it_unless_told_otherwise():
    from pathlib import Path

    dev = (Path(__file__).resolve().parents[2] / "workpro_site" / "settings" / "dev.py").read_text()
    assert 'os.environ.get("EMAIL_BACKEND", "workpro_site.mail.EmailBackend")' in dev
