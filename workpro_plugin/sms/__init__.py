"""SMS sending through a configurable backend (settings.WORKPRO_SMS_BACKEND).

Backends implement `send_messages(messages) -> int`, like Django's mail backends.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class SmsMessage:
    to: str
    body: str


def get_backend():
    return import_string(settings.WORKPRO_SMS_BACKEND)()


def send_sms(to: str, body: str) -> int:
    return get_backend().send_messages([SmsMessage(to=to, body=body)])
