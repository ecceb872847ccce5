from django.db import models
from django.utils.translation import gettext_lazy as _


class Heartbeat(models.Model):
    """The last time a task cluster ran the heartbeat task (schedule ``workpro-heartbeat``).

    One row per name; any worker of any ``qcluster`` machine stamps it, the health URL
    ``/-/health/tasks/`` reports the cluster down when the stamp is older than
    ``WORKPRO_HEARTBEAT_MAX_AGE_SECONDS``. It lives in the database (not the cache) so every web
    machine sees every worker's stamp, also with a per-process cache.
    """

    name = models.CharField(_("Name"), max_length=50, unique=True)
    beat_at = models.DateTimeField(_("zuletzt"))

    class Meta:
        verbose_name = _("Lebenszeichen")
        verbose_name_plural = _("Lebenszeichen")

    def __str__(self) -> str:
        return f"{self.name} {self.beat_at:%Y-%m-%d %H:%M:%S}"
