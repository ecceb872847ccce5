"""SMS sending through a configurable backend (settings.WORKPRO_SMS_BACKEND).

Backends implement `send_messages(messages) -> int`, like Django's mail backends.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from .. import conf


@dataclass(frozen=True)
class SmsMessage:
    to: str
    body: str


def get_backend():
    path = conf.get("SMS_BACKEND")
    if not path:  # never fall back to printing passwords (system check workpro.E027)
        raise ImproperlyConfigured("WORKPRO_SMS_BACKEND is not set and DEBUG is off.")
    return import_string(path)()


def send_sms(to: str, body: str) -> int:
    return get_backend().send_messages([SmsMessage(to=to, body=body)])
