from .base import BaseSmsBackend

outbox: list = []


class SmsBackend(BaseSmsBackend):
    """Keeps sent SMS in `workpro_plugin.sms.backends.locmem.outbox` (tests)."""

    def send_messages(self, messages) -> int:
        outbox.extend(messages)
        return len(messages)
