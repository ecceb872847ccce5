"""Remove a staff member's second factor (lost phone: the app and the recovery codes); with --link,
mail them a new one-time enrolment link at once. The next admin login then offers the link again."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from workpro_plugin.services import two_factor


class Command(BaseCommand):
    help = ("Zweiten Faktor (App und Wiederherstellungscodes) eines Kontos zurücksetzen, z. B. nach Verlust "
            "des Telefons; mit --link gleich einen neuen Einrichtungslink an die Mailadresse des Kontos senden.")

    def add_arguments(self, parser):
        parser.add_argument("username", help="Benutzername bzw. Mailadresse des Kontos")
        parser.add_argument("--link", action="store_true",
                            help="danach einen Einrichtungslink an die Mailadresse des Kontos senden")

    def handle(self, *args, username, link=False, **options):
        User = get_user_model()
        user = User.objects.filter(**{f"{User.USERNAME_FIELD}__iexact": username.strip()}).first()
        if user is None:
            raise CommandError(f"Kein Konto mit dem Benutzernamen {username!r}.")
        deleted = two_factor.devices_remove(user=user, via="workpro_reset_2fa")
        self.stdout.write(f"{deleted} Gerät(e) von {user.get_username()} entfernt.")
        if link:
            try:
                two_factor.enrolment_request(user=user, by=None)
            except two_factor.TwoFactorError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"Einrichtungslink an {user.email} verschickt.")
