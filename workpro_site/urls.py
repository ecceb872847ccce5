from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.urls import include, path
from django.views.i18n import set_language
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from workpro_plugin.urls import health_patterns, seo_patterns

urlpatterns = [
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("i18n/setlang/", set_language, name="set_language"),
    *seo_patterns,  # /robots.txt and /sitemap.xml of each institution's site
    *health_patterns,  # /-/health/ (web) and /-/health/tasks/ (task cluster) for load balancers
]

if settings.DEBUG:
    from django.conf.urls.static import static
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# German is served without a prefix, English under /en/.
urlpatterns += i18n_patterns(
    path("workpro/", include("workpro_plugin.urls")),
    path("", include(wagtail_urls)),
    prefix_default_language=False,
)
