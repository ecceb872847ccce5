"""Validate the digital signatures of the stored Angebote and contracts again (e.g. after the trusted
root certificates changed) and remember the verdict that the portal and the admin show."""

from django.core.management.base import BaseCommand

from workpro_plugin.services import signatures


class Command(BaseCommand):
    help = ("Digitale Signaturen der gespeicherten Angebote und Verträge erneut prüfen und das Ergebnis "
            "speichern; listet Dokumente, deren Signatur nicht (mehr) gültig ist.")

    def handle(self, *args, **options):
        failing = signatures.recheck_documents()
        for document in failing:
            self.stdout.write(f"{document.pk}\t{document.title}\t" + "; ".join(
                entry.get("summary", "") for entry in document.signatures))
        self.stdout.write(f"{len(failing)} Dokument(e) mit nicht gültiger Signatur.")
