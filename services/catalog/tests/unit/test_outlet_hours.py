from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from lumbung.catalog.adapters.outlet_hours import OUTLET_HOURS, OutletHours
from lumbung.catalog.bootstrap import build_api
from lumbung.catalog.settings import Settings
from lumbung.contracts.events.catalog import OutletChanged

NOON = datetime(2026, 7, 14, 4, 0, tzinfo=UTC)  # 12.00 WITA


def outlet(outlet_id: str, **changes: Any) -> OutletChanged:
    fields: dict[str, Any] = {
        "outlet_id": outlet_id,
        "name": f"Booth {outlet_id}",
        "channel": "event_booth",
        "address": "Stadion Sadurengas, Tanah Grogot",
        "active_window": {"starts_at": NOON - timedelta(hours=4), "ends_at": NOON},
        "version": 1,
        "changed_at": NOON - timedelta(days=1),
    }
    return OutletChanged.model_validate({**fields, **changes})


def open_now(hours: OutletHours) -> dict[str, float]:
    (family,) = hours.collect()
    assert family.name == "lumbung_outlet_open"
    return {sample.labels["outlet_id"]: sample.value for sample in family.samples}


def test_a_booth_is_open_inside_its_window_and_closed_at_its_end() -> None:
    now = NOON - timedelta(seconds=1)
    hours = OutletHours(lambda: now)
    hours.put(outlet("BOOTH-1"))

    assert open_now(hours) == {"BOOTH-1": 1.0}
    now = NOON
    assert open_now(hours) == {"BOOTH-1": 0.0}


def test_outlets_without_a_window_and_retired_ones_are_not_watched() -> None:
    hours = OutletHours(lambda: NOON - timedelta(hours=1))
    hours.put(outlet("BOOTH-1"))
    hours.put(outlet("KIOSK-1", channel="ikn_kiosk", active_window=None))
    hours.put(outlet("BOOTH-1", retired=True, version=2))

    assert open_now(hours) == {}


def test_the_catalog_api_serves_the_open_outlets_on_its_metrics() -> None:
    now = datetime.now(UTC)
    window = {"starts_at": now - timedelta(hours=1), "ends_at": now + timedelta(hours=1)}
    OUTLET_HOURS.put(outlet("METRICS-TEST-BOOTH", active_window=window))
    client = TestClient(build_api(Settings()))

    metrics = client.get("/metrics").text

    assert (
        'lumbung_outlet_open{channel="event_booth",outlet_id="METRICS-TEST-BOOTH"} 1.0' in metrics
    )


async def test_the_projector_hands_every_outlet_it_reads_to_the_hours() -> None:
    from uuid import uuid4

    from lumbung.catalog.adapters.projector import CatalogProjector
    from lumbung.contracts import Registry, encode, make_event

    class Model:
        async def put(self, kind: Any, entity: Any) -> None:
            pass

    hours = OutletHours(lambda: NOON - timedelta(hours=1))
    registry = Registry()
    projector = CatalogProjector("unused:9092", registry, Model(), lambda _: None, hours.put)  # type: ignore[arg-type]
    booth = outlet("BOOTH-7")
    event = make_event(
        booth, event_id=uuid4(), occurred_at=NOON, producer="catalog", correlation_id="c"
    )

    await projector._apply(registry.name("catalog.outlets"), encode(event))

    assert open_now(hours) == {"BOOTH-7": 1.0}
