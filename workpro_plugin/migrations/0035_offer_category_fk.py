"""OfferPage.category is the foreign key filled by 0029; the former key column goes."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("workpro_plugin", "0034_offer_taxonomy_data"),
    ]

    operations = [
        # With a default, going back can add the key column to a table that has offers (0029 refills it).
        migrations.AlterField(model_name="offerpage", name="category",
                              field=models.CharField(default="", max_length=20, verbose_name="Kategorie")),
        migrations.RemoveField(model_name="offerpage", name="category"),
        migrations.RenameField(model_name="offerpage", old_name="category_new", new_name="category"),
        migrations.AlterField(
            model_name="offerpage",
            name="category",
            field=models.ForeignKey(
                help_text="Die Kategorien verwalten Sie unter „WorkPro“ › „Angebotskategorien“.",
                on_delete=django.db.models.deletion.PROTECT, related_name="offers",
                to="workpro_plugin.offercategory", verbose_name="Kategorie"),
        ),
    ]
