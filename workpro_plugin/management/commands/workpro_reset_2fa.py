"""Remove a staff member's TOTP devices (lost phone); the next admin login sets up a new one."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice

from workpro_plugin.services import audit


class Command(BaseCommand):
    help = "Zweiten Faktor (TOTP) eines Kontos zurücksetzen, z. B. nach Verlust des Telefons."

    def add_arguments(self, parser):
        parser.add_argument("username", help="Benutzername bzw. Mailadresse des Kontos")

    def handle(self, *args, username, **options):
        user = get_user_model().objects.filter(username__iexact=username.strip()).first()
        if user is None:
            raise CommandError(f"Kein Konto mit dem Benutzernamen {username!r}.")
        deleted, _ = TOTPDevice.objects.filter(user=user).delete()
        audit.record(audit.A.TWO_FACTOR_DISABLED, actor_label=user.get_username(), object_type="auth.user",
                     object_id=str(user.pk), detail={"via": "workpro_reset_2fa", "devices": deleted})
        self.stdout.write(f"{deleted} Gerät(e) von {user.get_username()} entfernt.")
