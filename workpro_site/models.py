"""The demo deployment's own bookkeeping (not part of the plugin's wheel)."""

from django.contrib.contenttypes.models import ContentType
from django.db import models


class DemoObject(models.Model):
    """Which row a demo key stands for.

    Re-running the demo finds the rows it made by these keys, however they were changed
    through the UI since (a renamed page slug, a parent's new address, a child's new name),
    so it never builds a second demo family beside the first.
    """

    key = models.CharField(max_length=100, unique=True)
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.PositiveBigIntegerField()

    def __str__(self) -> str:
        return self.key
