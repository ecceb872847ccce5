"""The demo's URLs plus its public media files, for the gunicorn under `make lighthouse` (DEBUG off)."""

from django.conf import settings
from django.urls import re_path
from django.views.static import serve

from workpro_site.urls import urlpatterns as site_patterns

urlpatterns = [
    re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}),
    *site_patterns,
]
