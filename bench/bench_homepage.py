"""Institution homepage and help page, rendered through the Django test client."""

from django.test import Client

from bench.util import measure, report


def run() -> None:
    from workpro_site.demo import load_demo

    load_demo(port=8000)
    client = Client(HTTP_HOST="127.0.0.1:8000", SERVER_PORT="8000")
    for label, path in [("KiTa homepage /", "/"), ("help page /hilfe/", "/hilfe/"),
                        ("offer index /angebote/", "/angebote/")]:
        assert client.get(path).status_code == 200
        report(label, measure(lambda p=path: client.get(p)))
