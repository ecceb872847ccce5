from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkProConfig(AppConfig):
    name = "workpro_plugin"
    label = "workpro_plugin"
    verbose_name = _("WorkPro")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import checks, signals  # noqa: F401 - checks registers the system checks

        signals.connect()
        signals.connect_audit()
        signals.connect_institutions()
        # Each module adds its data to the DSGVO export and erasure (services.privacy) on import.
        from .services import access_logs, accounts, addons, apps, audit, chat, minors  # noqa: F401
