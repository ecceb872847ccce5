"""Production: secrets from the environment; refuses to start without SECRET_KEY.

`python manage.py check --deploy` passes with zero warnings on these settings.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from workpro_plugin.lib.hosts import SiteHosts

from .base import *  # noqa: F401,F403
from .base import env_bool, env_list

DEBUG = False

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if len(SECRET_KEY) < 50:
    raise ImproperlyConfigured(
        "SECRET_KEY must be set in the environment (at least 50 random characters), "
        'e.g. python -c "import secrets; print(secrets.token_urlsafe(64))"'
    )

# The host names of the institutions come from their Wagtail Sites (a new KiTa needs no redeploy);
# ALLOWED_HOSTS from the environment adds fixed names, e.g. the one the load balancer's health probe sends.
ALLOWED_HOSTS = SiteHosts(env_list("ALLOWED_HOSTS"))
# Only for cross-origin posts; forms posted to their own site pass Django's same-origin check.
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# HTTPS everywhere. TLS ends at the reverse proxy, which overwrites X-Forwarded-Proto with the
# scheme of the client's connection (deploy/nginx/workpro.conf). Django believes that header from
# whoever sends it, so gunicorn must be reachable only from the proxy (bind to 127.0.0.1 or a private
# address behind a firewall). SECURE_PROXY_SSL_HEADER names the header ("X-Forwarded-Proto", the
# default); empty turns it off, e.g. when gunicorn decides the scheme itself with
# --forwarded-allow-ips (it checks the peer address). X-Forwarded-For is read only from the
# addresses in TRUSTED_PROXIES (base.py).
_proxy_ssl_header = os.environ.get("SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto").strip()
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https") if _proxy_ssl_header else None
)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_NAME = "__Secure-sessionid"  # the browser keeps it off plain HTTP

# Staff must confirm their login with a TOTP code before the Wagtail admin opens.
WORKPRO_REQUIRE_STAFF_2FA = env_bool("WORKPRO_REQUIRE_STAFF_2FA", True)

CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}  # noqa: F405
        if REDIS_URL  # noqa: F405
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")

LOGGING = {
    **LOGGING,  # noqa: F405
    "root": {"handlers": ["console"], "level": "WARNING"},
}
