"""`{% workpro_head %}`: everything a WorkPro page needs in the host's <head>.

Plugin pages put it into the host's conventional `extra_css` block (workpro_plugin/layout.html
does this), so it works with the base.html `wagtail start` generates. A host whose own pages show
`{% workpro_buttons %}` may also call it in its base.html <head>: the tag renders once per
template render, however often it is called, so plugin pages never get the tags twice.
"""

from django import template
from django.template.loader import render_to_string

from ..models import OfferPage

register = template.Library()

_RENDERED = "workpro_head_rendered"


@register.simple_tag(takes_context=True)
def workpro_head(context):
    """The plugin's stylesheet and, on an offer page, its description, canonical link,
    Open Graph tags and schema.org JSON-LD (a data block: no CSP script exception needed)."""
    # render_context is shared along the {% extends %} chain of one rendering: the base
    # template and the plugin's layout see the same flag.
    if context.render_context.get(_RENDERED):
        return ""
    context.render_context[_RENDERED] = True
    page = context.get("page")
    offer = page if isinstance(page, OfferPage) else None
    structured_data_json = None
    if offer is not None:
        structured_data_json = context.get("structured_data_json") or offer.structured_data_json(
            context.get("request"))
    return render_to_string("workpro_plugin/includes/head.html", {
        "offer": offer,
        "institution": context.get("institution"),
        "structured_data_json": structured_data_json,
    })
