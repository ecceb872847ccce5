"""Hilfe: the help page of the institution's site, or the plugin's default text."""

from __future__ import annotations

from django.shortcuts import render

from ...lib.help_text import DEFAULT_HELP_HTML


def help_view(request):
    """Fallback for sites without a help page: the default usage hints."""
    return render(request, "workpro_plugin/help.html", {"help_html": DEFAULT_HELP_HTML})
