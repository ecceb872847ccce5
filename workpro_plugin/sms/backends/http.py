import json
import urllib.error
import urllib.request

from ... import conf
from .base import BaseSmsBackend


class SmsGatewayError(Exception):
    pass


class SmsBackend(BaseSmsBackend):
    """POSTs each SMS as JSON to an HTTP gateway; any non-2xx answer raises (the outbox retries).

    Settings: WORKPRO_SMS_GATEWAY_URL, WORKPRO_SMS_GATEWAY_TOKEN (Bearer), WORKPRO_SMS_SENDER_ID.
    Body: {"to": "+49…", "text": "…", "sender": "WorkPro"}.
    """

    def __init__(self, url=None, token=None, sender=None, timeout=10):
        self.url = url or conf.get("SMS_GATEWAY_URL")
        self.token = token or conf.get("SMS_GATEWAY_TOKEN")
        self.sender = sender or conf.get("SMS_SENDER_ID")
        self.timeout = timeout
        if not self.url:
            raise SmsGatewayError("WORKPRO_SMS_GATEWAY_URL is not set")

    def send_messages(self, messages) -> int:
        for message in messages:
            payload = json.dumps({"to": message.to, "text": message.body, "sender": self.sender}).encode()
            request = urllib.request.Request(  # noqa: S310 - URL comes from settings
                self.url, data=payload, method="POST",
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"},
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                    if not 200 <= response.status < 300:
                        raise SmsGatewayError(f"gateway answered {response.status}")
            except urllib.error.HTTPError as exc:
                raise SmsGatewayError(f"gateway answered {exc.code}: {exc.read()[:200]!r}") from exc
            except (urllib.error.URLError, TimeoutError) as exc:
                raise SmsGatewayError(f"gateway unreachable: {exc}") from exc
        return len(messages)
