from django.apps import AppConfig


class WorkProSiteConfig(AppConfig):
    name = "workpro_site"
    verbose_name = "WorkPro site"
