"""Offer pages and the sections they require."""

from workpro_plugin.models import OfferSection


def make_offer(institution, title="Krippenplatz", **fields):
    from workpro_plugin.models import OfferIndexPage, OfferPage

    index = OfferIndexPage.objects.descendant_of(institution.site.root_page).get()
    fields.setdefault("category", "betreuung")
    if isinstance(fields["category"], str):  # a slug: the shared category (recreated if a flush removed it)
        from workpro_plugin.models import OfferCategory
        from workpro_plugin.models.offer_taxonomy import ensure_default_taxonomy

        ensure_default_taxonomy()
        fields["category"] = OfferCategory.objects.get(institution=None, slug=fields["category"])
    fields.setdefault("teaser", f"Kurzbeschreibung {title}")
    offer = OfferPage(title=title, **fields)
    index.add_child(instance=offer)
    return offer


def require_sections(offer, plan=(("income", 2),)):
    for section, phase in plan:
        OfferSection.objects.create(page=offer, section=section, phase=phase)


def set_questions(offer, *questions, publish=False):
    """Give `offer` its own questions: each a dict with "type", "id" and the block's fields."""
    raw = []
    for question in questions:
        value = {"label": question["label"], "help_text": question.get("help_text", ""),
                 "required": question.get("required", True), "phase": str(question.get("phase", 1))}
        if "choices" in question:
            value["choices"] = "\n".join(question["choices"])
        raw.append({"type": question["type"], "id": question["id"], "value": value})
    offer.questions = raw
    offer.save()
    if publish:
        offer.save_revision().publish()
    return offer
