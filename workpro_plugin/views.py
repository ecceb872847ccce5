from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse_lazy

from .forms import EmailAuthenticationForm
from .help_text import DEFAULT_HELP_HTML
from .selectors import institution_for_request


class LoginView(auth_views.LoginView):
    template_name = "workpro_plugin/account/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    next_page = reverse_lazy("workpro:login")


@login_required(login_url=reverse_lazy("workpro:login"))
def account(request):
    return render(
        request,
        "workpro_plugin/account/overview.html",
        {"institution": institution_for_request(request)},
    )


def help_view(request):
    """Fallback for sites without a help page: the default usage hints."""
    return render(request, "workpro_plugin/help.html", {"help_html": DEFAULT_HELP_HTML})
