"""The fresh site with the README's settings block appended."""

import os

from workpro_plugin.conf import configure

from .bare import *  # noqa: F401,F403

ROOT_URLCONF = "tests.host_site.urls_configured"

# --- the README block
WORKPRO_SMS_GATEWAY_URL = os.environ.get("WORKPRO_SMS_GATEWAY_URL", "")
WORKPRO_SMS_GATEWAY_TOKEN = os.environ.get("WORKPRO_SMS_GATEWAY_TOKEN", "")
configure(globals(), redis_url=os.environ.get("REDIS_URL", ""))
