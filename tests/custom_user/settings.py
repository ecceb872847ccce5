"""The test settings with a custom user model whose USERNAME_FIELD is `email` (#17).

Swapping AUTH_USER_MODEL needs a database of its own: run it as a separate pytest process,
    DJANGO_SETTINGS_MODULE=tests.custom_user.settings python -m pytest -p no:cacheprovider <tests>
(`make test-custom-user`, and a step of .ci/run).
"""

from workpro_site.settings.test import *  # noqa: F401,F403

INSTALLED_APPS = [*INSTALLED_APPS, "tests.custom_user"]  # noqa: F405
AUTH_USER_MODEL = "custom_user.User"
