"""Portal views of the apps ("Anwendungen"): tiles, accepting the terms, opening an app."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ...services import apps as svc
from ..shortcuts import LOGIN_URL, assigned_app_or_404


def _page(request, *, errors=None, status=200):
    return render(request, "workpro_plugin/account/apps.html", {
        "groups": svc.app_tiles(request.user), "errors": errors or {},
    }, status=status)


@login_required(login_url=LOGIN_URL)
def apps(request):
    """Anwendungen: per person the user speaks for, the assigned apps as tiles."""
    return _page(request)


@login_required(login_url=LOGIN_URL)
@require_POST
def app_accept(request, app_id: int, person_id: int):
    app, person = assigned_app_or_404(request, app_id, person_id)
    try:
        svc.app_accept(app=app, person=person, by=request.user, terms_sha256=request.POST.get("terms", ""))
    except svc.AppError as exc:
        return _page(request, errors={(app.pk, person.pk): exc.message}, status=400)
    messages.success(request, _("„%(app)s“ ist angenommen und kann jetzt geöffnet werden.") % {"app": app.name})
    return redirect("workpro:apps")


@login_required(login_url=LOGIN_URL)
def app_open(request, app_id: int, person_id: int):
    """Öffnen: only an assigned app whose current terms are accepted leads on to its address."""
    app, person = assigned_app_or_404(request, app_id, person_id)
    if svc.current_acceptance(app, person) is None:
        messages.error(request, _("Bitte nehmen Sie „%(app)s“ zuerst an.") % {"app": app.name})
        return redirect("workpro:apps")
    return HttpResponseRedirect(app.launch_url)
