"""A Wagtail site as `wagtail start` makes it, for the tests of what WorkPro needs of its host.

`bare` adds only "workpro_plugin" to INSTALLED_APPS; `configured` appends the README's settings
block (`configure(globals())`) and `urls_configured` its urls block.
"""

# The MIDDLEWARE of a fresh `wagtail start` site (Wagtail 8).
WAGTAIL_START_MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]
