"""A whole Vergaberunde on the database: preview (reads + the pure function) and confirmation (writes).

Size from the environment: WORKPRO_BENCH_ROUND_CHILDREN (default 1000), _OFFERS (40), _WISHES (3); the
issue's full size is 10000 / 400 / 5 on PostgreSQL (DATABASE_URL=postgres://…):
    WORKPRO_BENCH_ROUND_CHILDREN=10000 WORKPRO_BENCH_ROUND_OFFERS=400 WORKPRO_BENCH_ROUND_WISHES=5 \
        .venv/bin/python bench/run.py allocation_round
The baseline is the pure `allocate` on the same recorded inputs, measured interleaved with the preview.
"""

import os
import random
import statistics
import time
from datetime import date


def _figure(label: str, seconds: list[float], base: list[float] | None = None) -> None:
    median = statistics.median(seconds)
    ratio = f"   {median / statistics.median(base):6.1f}× the pure function" if base else ""
    print(f"   {label:<52} median {median * 1000:9.1f} ms{ratio}")


def _server_cpu() -> float | None:
    """CPU seconds of this connection's PostgreSQL backend process, when the server runs on this machine."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run() -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from tests.factories import make_institution
    from workpro_plugin.allocation import allocate
    from workpro_plugin.lib.users import login_fields
    from workpro_plugin.models import Enrollment, OfferCategory, OfferIndexPage, OfferPage, Person
    from workpro_plugin.models.offer_taxonomy import ensure_default_taxonomy
    from workpro_plugin.services import allocation as svc

    children = int(os.environ.get("WORKPRO_BENCH_ROUND_CHILDREN", 1000))
    offer_count = int(os.environ.get("WORKPRO_BENCH_ROUND_OFFERS", 40))
    wishes = int(os.environ.get("WORKPRO_BENCH_ROUND_WISHES", 3))
    rng = random.Random(18)
    ensure_default_taxonomy()
    kita = make_institution("bench-vergabe", hostname="vergabe.bench")
    index = OfferIndexPage.objects.descendant_of(kita.site.root_page).get()
    offers = []
    for i in range(offer_count):
        offer = OfferPage(title=f"Krippe {i:03d}", category=OfferCategory.objects.get(institution=None, slug="betreuung"), teaser="Bench",
                          capacity=max(1, int(children * 0.8 / offer_count)))
        index.add_child(instance=offer)
        offers.append(offer)
    lead = get_user_model().objects.create(**login_fields("leitung@vergabe.bench"))
    lead.groups.add(kita.lead_group)
    holder = get_user_model().objects.create(**login_fields("eltern@vergabe.bench"))
    people = Person.objects.bulk_create(Person(first_name=f"Kind{i}", last_name="Bench",
                                               date_of_birth=date(2025, 1, 1)) for i in range(children))
    weights = [1 / (k + 1) for k in range(offer_count)]  # popular offers first
    rows = []
    for person in people:
        chosen = []
        while len(chosen) < wishes:
            offer = rng.choices(offers, weights)[0]
            if offer not in chosen:
                chosen.append(offer)
        rows += [Enrollment(offer=o, institution=kita, account_holder=holder, participant=person,
                            status=Enrollment.Status.BEWERBER, wish_rank=rank, lottery_number=rng.randrange(1, 10**9))
                 for rank, o in enumerate(chosen, start=1)]
    Enrollment.objects.bulk_create(rows, batch_size=2000)
    print(f"   {children} children × {offer_count} offers × {wishes} wishes = {len(rows)} applications "
          f"({connection.vendor}); load average {os.getloadavg()[0]:.1f}")

    round_ = svc.round_create(title="Bench", stichtag=timezone.localdate(), offers=offers, by=lead)
    plan = svc.plan_round(round_)
    inputs = ({int(k): v for k, v in plan.inputs["preferences"].items()},
              {int(k): v for k, v in plan.inputs["priorities"].items()},
              {int(k): v for k, v in plan.inputs["capacities"].items()})
    pure, preview, preview_cpu = [], [], []
    for _ in range(3):  # ABAB: the pure function, then the whole preview
        started = time.perf_counter()
        allocate(*inputs)
        pure.append(time.perf_counter() - started)
        started, cpu = time.perf_counter(), time.process_time()
        svc.plan_round(round_)
        preview.append(time.perf_counter() - started)
        preview_cpu.append(time.process_time() - cpu)
    _figure("pure allocate (baseline)", pure)
    _figure("preview: reads, scores, allocate, explanations", preview, pure)
    from unittest import mock

    from workpro_plugin.services import notify

    # Mails are delivered by the task cluster after commit; the test settings run tasks inline,
    # so delivery is counted here, not timed (a worker does it in production).
    with mock.patch.object(notify, "_enqueue_delivery") as enqueued:
        started, cpu, server = time.perf_counter(), time.process_time(), _server_cpu()
        confirmed = svc.round_confirm(round_=round_, by=lead)
        seconds, confirm_cpu = time.perf_counter() - started, time.process_time() - cpu
        server = _server_cpu() - server if server is not None else None
    print(f"   mails queued for the task cluster: {enqueued.call_count}")
    placed = sum(1 for c in confirmed.candidates if c.outcome == "placed")
    _figure("confirm: locks, preview, bulk writes, log, audit, mails (once)", [seconds], pure)
    print(f"   preview {statistics.median(preview):.1f} s, confirm {seconds:.1f} s for {len(rows)} applications "
          f"(goal at 50,000: each under 30 s); CPU time of this process (without the database server, "
          f"less sensitive to a busy machine): preview {statistics.median(preview_cpu):.1f} s, confirm {confirm_cpu:.1f} s")
    if server is not None:
        print(f"   confirm CPU incl. the database server's backend: {confirm_cpu:.1f} s + {server:.1f} s = "
              f"{confirm_cpu + server:.1f} s (one connection, one core each at a time: the wall time on an idle "
              f"machine, not counting disk waits)")
    print(f"   placed {placed}, per 1,000 applications {seconds / len(rows) * 1000:.1f} s; "
          f"linear estimate for 10,000 × 400 × 5 (50,000 applications): {seconds / len(rows) * 50_000:.0f} s")
