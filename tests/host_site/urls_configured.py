"""The fresh site's urls.py with the README's urls block appended."""

from django.urls import include, path

from .urls import urlpatterns

# --- the README block
urlpatterns = [path("workpro/", include("workpro_plugin.urls"))] + urlpatterns
