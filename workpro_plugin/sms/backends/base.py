class BaseSmsBackend:
    def send_messages(self, messages) -> int:  # pragma: no cover - interface
        raise NotImplementedError
