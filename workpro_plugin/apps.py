import sys
from importlib.machinery import ModuleSpec
from types import ModuleType

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkProConfig(AppConfig):
    name = "workpro_plugin"
    label = "workpro_plugin"
    verbose_name = _("WorkPro")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import checks, conf  # noqa: F401 - checks registers the system checks

        if conf.missing_apps():
            # The apps WorkPro builds on (django-axes, django-otp, ...) are not installed: their models
            # cannot load, so neither can WorkPro's views, hooks and signals. The system check
            # workpro.E020 names what to add; until then the admin hooks and urls stay empty, so
            # `manage.py check` gets to say so instead of a traceback.
            self._stand_in("wagtail_hooks")
            self._stand_in("urls", app_name="workpro", urlpatterns=[])
            return

        from . import signals

        signals.connect()
        signals.connect_audit()
        signals.connect_allocation()
        signals.connect_institutions()
        # Each module adds its data to the DSGVO export and erasure (services.privacy) on import.
        from .services import access_logs, accounts, addons, apps, audit, chat, minors  # noqa: F401

    def _stand_in(self, submodule: str, **attributes) -> None:
        name = f"{self.name}.{submodule}"
        if name not in sys.modules:
            module = ModuleType(name, "Stands in while WorkPro's required apps are missing (workpro.E020).")
            module.__spec__ = ModuleSpec(name, None)
            module.__dict__.update(attributes)
            sys.modules[name] = module
