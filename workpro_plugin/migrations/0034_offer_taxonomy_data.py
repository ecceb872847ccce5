"""The former fixed lists become shared entries (#23): the seven offer categories and the five age groups,
with their former keys as slugs; every offer page, and every stored revision of one (drafts, history,
scheduled publishing), points at its category by id instead of by key. Reversible: going back writes the
keys again (an institution's own category goes back as its slug, which the old choices may not know)."""

from django.db import migrations

CATEGORIES = (  # slug, name, English name, schema.org type (the former COURSE_CATEGORIES are Courses)
    ("ausbildung", "Ausbildung", "Vocational training", "Course"),
    ("umschulung", "Umschulung", "Retraining", "Course"),
    ("weiterbildung", "Weiterbildung", "Further education", "Course"),
    ("sprachkurs", "Sprachkurs", "Language course", "Course"),
    ("betreuung", "Betreuung", "Childcare", "Service"),
    ("wohnen", "Wohnen", "Housing", "Service"),
    ("zusatzleistung", "Zusatzleistung", "Additional service", "Service"),
)
AGE_GROUPS = (  # slug, name, English name, from, to (years)
    ("u3", "Kinder unter 3 Jahren", "Children under 3", 0, 2),
    ("3-6", "Kinder von 3 bis 6 Jahren", "Children aged 3 to 6", 3, 6),
    ("6-12", "Schulkinder (6 bis 12 Jahre)", "School children (6 to 12)", 6, 12),
    ("12-17", "Jugendliche (12 bis 17 Jahre)", "Young people (12 to 17)", 12, 17),
    ("18+", "Erwachsene (ab 18 Jahren)", "Adults (18 and over)", 18, None),
)


def _revisions(apps):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Revision = apps.get_model("wagtailcore", "Revision")
    content_type = ContentType.objects.filter(app_label="workpro_plugin", model="offerpage").first()
    if content_type is None:
        return Revision.objects.none()
    return Revision.objects.filter(content_type=content_type)


def forward(apps, schema_editor):
    OfferCategory = apps.get_model("workpro_plugin", "OfferCategory")
    AgeGroup = apps.get_model("workpro_plugin", "AgeGroup")
    OfferPage = apps.get_model("workpro_plugin", "OfferPage")
    by_slug = {}
    for position, (slug, name, name_en, schema_type) in enumerate(CATEGORIES, start=1):
        by_slug[slug], _ = OfferCategory.objects.get_or_create(institution=None, slug=slug, defaults={
            "name": name, "name_en": name_en, "schema_type": schema_type, "sort_order": position * 10})
    for position, (slug, name, name_en, min_age, max_age) in enumerate(AGE_GROUPS, start=1):
        AgeGroup.objects.get_or_create(institution=None, slug=slug, defaults={
            "name": name, "name_en": name_en, "min_age": min_age, "max_age": max_age, "sort_order": position * 10})
    for slug in OfferPage.objects.exclude(category__in=by_slug).values_list("category", flat=True).distinct():
        # a key the old choices did not have (written around the form): kept as a shared category of its own
        by_slug[slug], _ = OfferCategory.objects.get_or_create(institution=None, slug=slug or "ohne", defaults={
            "name": slug or "ohne Kategorie", "schema_type": "Service", "sort_order": 900})
    for slug, category in by_slug.items():
        OfferPage.objects.filter(category=slug).update(category_new=category)
    for revision in _revisions(apps).iterator():
        content = revision.content or {}
        slug = content.get("category")
        if isinstance(slug, str) and slug in by_slug:
            content["category"] = by_slug[slug].pk  # the field's final name (0030 renames category_new)
            revision.content = content
            revision.save(update_fields=["content"])


def backward(apps, schema_editor):
    OfferCategory = apps.get_model("workpro_plugin", "OfferCategory")
    OfferPage = apps.get_model("workpro_plugin", "OfferPage")
    slugs = dict(OfferCategory.objects.values_list("pk", "slug"))
    for pk, slug in slugs.items():
        OfferPage.objects.filter(category_new_id=pk).update(category=slug[:20])
    for revision in _revisions(apps).iterator():
        content = revision.content or {}
        pk = content.get("category")
        if isinstance(pk, int) and pk in slugs:
            content["category"] = slugs[pk][:20]
            revision.content = content
            revision.save(update_fields=["content"])


class Migration(migrations.Migration):

    dependencies = [
        ("workpro_plugin", "0033_offer_taxonomy"),
        ("wagtailcore", "0098_apitoken"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forward, backward)]
