"""The catalog keeps each consignment outlet's commission history from its writes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from lumbung.catalog.domain import OUTLET
from lumbung.contracts.events.catalog import OutletChanged
from lumbung.platform.clock import WITA
from services.catalog.tests.unit.fakes import START, Catalog

STORE = {
    "name": "Indomaret Jl. Kusuma Bangsa",
    "channel": "indomaret",
    "address": "Tanah Grogot",
    "commission_percent": 15.0,
}
KIOSK = {"name": "Kios UMKM Paser di IKN", "channel": "ikn_kiosk", "address": "IKN"}
MID_OCTOBER = datetime(2026, 10, 16, 9, 0, tzinfo=WITA)


def history(outlet: dict[str, Any]) -> list[tuple[str, float]]:
    return [(rate["effective_from"], rate["percent"]) for rate in outlet["commission_history"]]


def put(catalog: Catalog, body: dict[str, Any], outlet_id: str = "IDM-1") -> dict[str, Any]:
    answer = catalog.api.put(f"/v1/outlets/{outlet_id}", json=body)
    assert answer.status_code in (200, 201), answer.text
    written: dict[str, Any] = answer.json()
    return written


def store_changed_mid_october(catalog: Catalog) -> None:
    """15 % from 1 October, 12 % from the 16th."""
    put(catalog, STORE)
    catalog.now = MID_OCTOBER
    put(catalog, {**STORE, "commission_percent": 12.0})


def test_a_new_consignment_outlet_starts_its_history_with_its_rate_on_that_day() -> None:
    catalog = Catalog()

    created = put(catalog, STORE)

    assert history(created) == [("2026-10-01", 15.0)]
    assert history(catalog.api.get("/v1/outlets/IDM-1").json()) == [("2026-10-01", 15.0)]


def test_a_new_rate_takes_effect_from_the_day_it_is_written() -> None:
    catalog = Catalog()

    store_changed_mid_october(catalog)

    [*_, published] = catalog.written_to(OUTLET.topic)
    assert isinstance(published, OutletChanged)
    assert [(r.effective_from.isoformat(), r.percent) for r in published.commission_history] == [
        ("2026-10-01", 15.0),
        ("2026-10-16", 12.0),
    ]
    assert published.commission_on(MID_OCTOBER.date() - timedelta(days=1)) == 15.0
    assert published.commission_on(MID_OCTOBER.date()) == 12.0


def test_the_day_of_a_change_is_the_outlets_own_day() -> None:
    # 23.30 in Jakarta (WIB) is already half past midnight in Tanah Grogot (WITA).
    catalog = Catalog()
    in_jakarta = {**STORE, "timezone": "Asia/Jakarta"}
    put(catalog, in_jakarta)
    catalog.now = datetime(2026, 10, 16, 0, 30, tzinfo=WITA)

    changed = put(catalog, {**in_jakarta, "commission_percent": 12.0})

    assert history(changed) == [("2026-10-01", 15.0), ("2026-10-15", 12.0)]


def test_a_write_that_leaves_the_rate_alone_keeps_the_history() -> None:
    catalog = Catalog()
    store_changed_mid_october(catalog)
    catalog.now = MID_OCTOBER + timedelta(days=5)

    renamed = put(catalog, {**STORE, "commission_percent": 12.0, "name": "Indomaret Baru"})

    assert renamed["name"] == "Indomaret Baru"
    assert history(renamed) == [("2026-10-01", 15.0), ("2026-10-16", 12.0)]


def test_a_client_that_sends_back_the_history_it_read_changes_the_rate_as_usual() -> None:
    catalog = Catalog()
    put(catalog, STORE)
    read = catalog.api.get("/v1/outlets/IDM-1").json()
    catalog.now = MID_OCTOBER

    changed = put(catalog, {**STORE, "commission_percent": 12.0, "commission_history": []})
    again = put(
        catalog,
        {**STORE, "commission_percent": 10.0, "commission_history": changed["commission_history"]},
    )

    assert history(read) == [("2026-10-01", 15.0)]
    assert history(changed) == [("2026-10-01", 15.0), ("2026-10-16", 12.0)]
    assert history(again) == [("2026-10-01", 15.0), ("2026-10-16", 10.0)]


def test_a_second_change_on_the_same_day_replaces_that_days_rate() -> None:
    catalog = Catalog()
    store_changed_mid_october(catalog)
    catalog.now = MID_OCTOBER + timedelta(hours=6)

    changed_again = put(catalog, {**STORE, "commission_percent": 10.0})
    changed_back = put(catalog, {**STORE, "commission_percent": 15.0})

    assert history(changed_again) == [("2026-10-01", 15.0), ("2026-10-16", 10.0)]
    assert history(changed_back) == [("2026-10-01", 15.0)]


def test_ops_correct_the_history_by_writing_it_whole() -> None:
    catalog = Catalog()
    store_changed_mid_october(catalog)
    corrected = [
        {"effective_from": "2026-09-01", "percent": 17.5},
        {"effective_from": "2026-10-11", "percent": 12.0},
    ]

    written = put(catalog, {**STORE, "commission_percent": 12.0, "commission_history": corrected})

    assert history(written) == [("2026-09-01", 17.5), ("2026-10-11", 12.0)]
    [*_, published] = catalog.written_to(OUTLET.topic)
    assert isinstance(published, OutletChanged)
    assert published.commission_on(datetime(2026, 10, 10).date()) == 17.5


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        (
            {
                **STORE,
                "commission_history": [
                    {"effective_from": "2026-09-01", "percent": 17.5},
                    {"effective_from": "2026-09-01", "percent": 15.0},
                ],
            },
            "commission_history.1.effective_from",
            "2026-09-01 is not after 2026-09-01",
        ),
        (
            {
                **STORE,
                "commission_history": [
                    {"effective_from": "2026-09-15", "percent": 17.5},
                    {"effective_from": "2026-09-01", "percent": 15.0},
                ],
            },
            "commission_history.1.effective_from",
            "the rates go oldest first",
        ),
        (
            {**STORE, "commission_history": [{"effective_from": "2026-09-01", "percent": 17.5}]},
            "commission_history.0.percent",
            "the last rate is 17.5 %, but commission_percent is 15 %",
        ),
        (
            {**STORE, "commission_history": [{"effective_from": "2026-10-02", "percent": 15.0}]},
            "commission_history.0.effective_from",
            "2026-10-02 is after today (2026-10-01 in Asia/Makassar)",
        ),
        (
            {**KIOSK, "commission_history": [{"effective_from": "2026-09-01", "percent": 15.0}]},
            "commission_history",
            "an outlet of channel ikn_kiosk takes no commission",
        ),
    ],
)
def test_a_history_that_does_not_hold_together_is_refused_naming_the_field(
    body: dict[str, Any], field: str, words: str
) -> None:
    catalog = Catalog()
    put(catalog, STORE)

    answer = catalog.api.put("/v1/outlets/IDM-1", json=body)

    assert answer.status_code == 422
    assert answer.json()["errors"] == [{"field": field, "message": answer.json()["detail"]}]
    assert words in answer.json()["detail"]
    assert len(catalog.log.written) == 1
    assert history(catalog.api.get("/v1/outlets/IDM-1").json()) == [("2026-10-01", 15.0)]


def test_an_outlet_that_takes_no_commission_keeps_no_history() -> None:
    catalog = Catalog()
    store_changed_mid_october(catalog)

    kiosk = put(catalog, KIOSK)

    assert kiosk["commission_percent"] is None
    assert kiosk["commission_history"] == []


def test_an_outlet_stored_before_histories_starts_one_at_its_last_write() -> None:
    catalog = Catalog()
    catalog.model.entities[("outlet", "IDM-OLD")] = OutletChanged.model_validate(
        {**STORE, "outlet_id": "IDM-OLD", "version": 3, "changed_at": START - timedelta(days=20)}
    )
    catalog.now = MID_OCTOBER

    changed = put(catalog, {**STORE, "commission_percent": 12.0}, "IDM-OLD")

    assert history(changed) == [("2026-09-11", 15.0), ("2026-10-16", 12.0)]


async def test_an_outlet_sheet_sets_the_rate_and_the_history_follows() -> None:
    catalog = Catalog()
    store_changed_mid_october(catalog)
    catalog.now = MID_OCTOBER + timedelta(days=10)
    sheet = (
        "outlet_id;name;channel;address;commission_percent\n"
        "IDM-1;Indomaret Jl. Kusuma Bangsa;indomaret;Tanah Grogot;10\n"
    )

    report = await catalog.service.import_sheet("outlets", sheet.encode(), dry_run=False)

    assert (report.imported, report.problems) == (["IDM-1"], [])
    assert history(catalog.api.get("/v1/outlets/IDM-1").json()) == [
        ("2026-10-01", 15.0),
        ("2026-10-16", 12.0),
        ("2026-10-26", 10.0),
    ]
