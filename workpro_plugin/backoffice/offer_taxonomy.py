"""Angebotskategorien and Altersgruppen in the Wagtail admin (#23), in the WorkPro menu.

- Staff (with "process_enrollment", like the Kriterienkatalog) list the shared entries and those of
  their institutions; they create and edit their institution's own. A shared entry applies to every
  institution: it is read-only for them (no edit or delete: "denied"); only superusers change it.
- Another institution's entry does not exist for them (404), also in the views modeladmin looks up
  by id alone.
- A category an offer page still uses cannot be deleted: the delete view says so in German and sends
  the user back to the list (the database refuses too: the offer's foreign key is PROTECT).
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, FieldRowPanel, ObjectList
from wagtail_modeladmin import views as modeladmin_views
from wagtail_modeladmin.options import ModelAdmin

from ..lib.form_fields import ModelChoiceField
from ..models import AgeGroup, OfferCategory
from ..selectors.institutions import is_staff_anywhere, staff_institutions
from ..selectors.offers import category_in_use, staff_age_groups, staff_offer_categories
from . import helpers as admin_helpers


class TaxonomyForm(WagtailAdminModelForm):
    """Staff file an entry under one of their institutions; only superusers may leave it shared."""

    class Meta:
        field_classes = {"institution": ModelChoiceField}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.for_user
        field = self.fields.get("institution")
        if user is not None and field is not None and not user.is_superuser:
            field.queryset = staff_institutions(user)
            field.required = True  # a shared entry would apply to every institution
            field.empty_label = None
            field.error_messages["required"] = _("Bitte wählen Sie Ihre Einrichtung.")
            field.error_messages["invalid_choice"] = _("Bitte wählen Sie Ihre Einrichtung.")


class AgeGroupForm(TaxonomyForm):
    def clean(self):
        cleaned = super().clean()
        low, high = cleaned.get("min_age"), cleaned.get("max_age")
        if low is not None and high is not None and high < low:
            self.add_error("max_age", _("Das Höchstalter darf nicht unter dem Mindestalter liegen."))
        return cleaned


class TaxonomyPermissionHelper(admin_helpers.InstitutionRowsPermissionHelper):
    def institutions(self, user):
        return staff_institutions(user)

    def _any_institution(self, user) -> bool:
        return is_staff_anywhere(user)  # the question the admin menu asks already, answered once a request

    def may_change(self, user, obj):
        if user.is_superuser:
            return True
        return obj.institution_id is not None and obj.institution.staff_can(user, "process_enrollment")


class CategoryDeleteView(modeladmin_views.DeleteView):
    """A category in use is not deleted: a German message instead of the generic "protected" page."""

    def dispatch(self, request, *args, **kwargs):
        if self.check_action_permitted(request.user) and category_in_use(self.instance):
            messages.error(request, _("Die Kategorie „%(name)s“ wird noch von Angeboten verwendet und kann nicht "
                                      "gelöscht werden. Ordnen Sie diese Angebote zuerst einer anderen Kategorie "
                                      "zu.") % {"name": self.instance.name})
            return redirect(self.index_url)
        return super().dispatch(request, *args, **kwargs)


class _ScopedTaxonomyAdmin(admin_helpers.InstitutionRowsAdmin, ModelAdmin):
    permission_helper_class = TaxonomyPermissionHelper
    search_fields = ("name", "slug")
    selector = staticmethod(staff_offer_categories)

    def get_queryset(self, request):
        return self.selector(request.user)

    def scope_label(self, obj):
        return obj.institution.name if obj.institution_id else _("alle Einrichtungen")
    scope_label.short_description = gettext_lazy("Einrichtung")
    scope_label.admin_order_field = "institution__name"


class OfferCategoryAdmin(_ScopedTaxonomyAdmin):
    model = OfferCategory
    menu_label = gettext_lazy("Angebotskategorien")
    menu_icon = "tag"
    menu_order = 180
    delete_view_class = CategoryDeleteView
    selector = staticmethod(staff_offer_categories)
    edit_handler = ObjectList([
        FieldRowPanel([FieldPanel("name"), FieldPanel("name_en")]),
        FieldRowPanel([FieldPanel("slug"), FieldPanel("sort_order")]),
        FieldPanel("schema_type"),
        FieldPanel("institution"),
    ], base_form_class=TaxonomyForm)
    list_display = ("name", "slug", "schema_type", "scope_label", "sort_order")
    list_filter = ("schema_type",)


class AgeGroupAdmin(_ScopedTaxonomyAdmin):
    model = AgeGroup
    menu_label = gettext_lazy("Altersgruppen")
    menu_icon = "group"
    menu_order = 181
    selector = staticmethod(staff_age_groups)
    edit_handler = ObjectList([
        FieldRowPanel([FieldPanel("name"), FieldPanel("name_en")]),
        FieldRowPanel([FieldPanel("slug"), FieldPanel("sort_order")]),
        FieldRowPanel([FieldPanel("min_age"), FieldPanel("max_age")]),
        FieldPanel("institution"),
    ], base_form_class=AgeGroupForm)
    list_display = ("name", "slug", "min_age", "max_age", "scope_label", "sort_order")
