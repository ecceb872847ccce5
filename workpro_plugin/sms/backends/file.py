import datetime
import os
from pathlib import Path

from ... import conf
from .base import BaseSmsBackend


class SmsBackend(BaseSmsBackend):
    """Writes each SMS to a file in settings.WORKPRO_SMS_FILE_PATH (like Django's file mail backend)."""

    def __init__(self, path=None):
        self.path = Path(path or conf.get("SMS_FILE_PATH"))

    def send_messages(self, messages) -> int:
        self.path.mkdir(parents=True, exist_ok=True)
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        target = self.path / f"{stamp}-{os.getpid()}.log"
        with target.open("a", encoding="utf-8") as handle:
            for message in messages:
                handle.write(f"To: {message.to}\n{message.body}\n{'-' * 40}\n")
        return len(messages)
