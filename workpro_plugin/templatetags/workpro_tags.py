from django import template
from django.urls import reverse

from ..selectors.sites import institution_for_request, site_nav_for_request

register = template.Library()


@register.inclusion_tag("workpro_plugin/includes/site_buttons.html", takes_context=True)
def workpro_buttons(context):
    """The "Angebote", "Mein Konto" and red "i" buttons of every institution page.

    Include it in the header of the site's base template: `{% workpro_buttons %}`.
    """
    request = context.get("request")
    nav = site_nav_for_request(request) if request else None
    return {
        "request": request,
        "offers_url": nav.offers_url if nav else None,
        "account_url": reverse("workpro:account"),
        "help_url": (nav.help_url if nav else None) or reverse("workpro:help"),
        "user": context.get("user"),
    }


@register.simple_tag(takes_context=True)
def workpro_institution(context):
    request = context.get("request")
    return institution_for_request(request) if request else None
