import sys
import threading

from .base import BaseSmsBackend


class SmsBackend(BaseSmsBackend):
    """Writes each SMS to stdout, like Django's console mail backend (demo)."""

    _lock = threading.Lock()

    def __init__(self, stream=None):
        self.stream = stream or sys.stdout

    def send_messages(self, messages) -> int:
        with self._lock:
            for message in messages:
                self.stream.write(f"--- SMS an {message.to} ---\n{message.body}\n{'-' * 40}\n")
            self.stream.flush()
        return len(messages)
