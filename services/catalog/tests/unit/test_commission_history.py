"""The catalog keeps each consignment outlet's commission history from its writes: the
rules of `domain.next_revision`, with no API and no broker."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from lumbung.catalog.domain import OUTLET, InvalidField, next_revision
from lumbung.catalog.spreadsheet import Report, read
from lumbung.contracts.events.catalog import OutletChanged, OutletDetails
from lumbung.platform.clock import WITA

STORE = {
    "name": "Indomaret Jl. Kusuma Bangsa",
    "channel": "indomaret",
    "address": "Tanah Grogot",
    "commission_percent": 15.0,
}
KIOSK = {"name": "Kios UMKM Paser di IKN", "channel": "ikn_kiosk", "address": "IKN"}
START = datetime(2026, 10, 1, 10, 0, tzinfo=WITA)
MID_OCTOBER = datetime(2026, 10, 16, 9, 0, tzinfo=WITA)


def write(
    body: dict[str, Any], current: OutletChanged | None = None, at: datetime = START
) -> OutletChanged:
    """The outlet IDM-1 after a write of `body` (as the API parses it) at `at`."""
    outlet = next_revision(OUTLET, "IDM-1", OutletDetails.model_validate(body), current, None, at)
    assert isinstance(outlet, OutletChanged)
    return outlet


def history(outlet: OutletDetails) -> list[tuple[str, float]]:
    return [(rate.effective_from.isoformat(), rate.percent) for rate in outlet.commission_history]


def store_changed_mid_october() -> OutletChanged:
    """15 % from 1 October, 12 % from the 16th."""
    return write({**STORE, "commission_percent": 12.0}, write(STORE), MID_OCTOBER)


def test_a_new_consignment_outlet_starts_its_history_with_its_rate_on_that_day() -> None:
    created = write(STORE)

    assert history(created) == [("2026-10-01", 15.0)]


def test_a_new_rate_takes_effect_from_the_day_it_is_written() -> None:
    changed = store_changed_mid_october()

    assert history(changed) == [("2026-10-01", 15.0), ("2026-10-16", 12.0)]
    assert changed.commission_on(MID_OCTOBER.date() - timedelta(days=1)) == 15.0
    assert changed.commission_on(MID_OCTOBER.date()) == 12.0
    assert changed.version == 2


def test_the_day_of_a_change_is_the_outlets_own_day() -> None:
    # 00.30 in Tanah Grogot (WITA) is still 23.30 the day before in Jakarta (WIB).
    in_jakarta = {**STORE, "timezone": "Asia/Jakarta"}
    after_midnight_in_wita = datetime(2026, 10, 16, 0, 30, tzinfo=WITA)

    changed = write(
        {**in_jakarta, "commission_percent": 12.0}, write(in_jakarta), after_midnight_in_wita
    )

    assert history(changed) == [("2026-10-01", 15.0), ("2026-10-15", 12.0)]


def test_a_write_that_leaves_the_rate_alone_keeps_the_history() -> None:
    later = MID_OCTOBER + timedelta(days=5)

    renamed = write(
        {**STORE, "commission_percent": 12.0, "name": "Indomaret Baru"},
        store_changed_mid_october(),
        later,
    )

    assert renamed.name == "Indomaret Baru"
    assert history(renamed) == [("2026-10-01", 15.0), ("2026-10-16", 12.0)]


def test_a_client_that_sends_back_the_history_it_read_changes_the_rate_as_usual() -> None:
    read_back = write(STORE)

    changed = write(
        {**STORE, "commission_percent": 12.0, "commission_history": []}, read_back, MID_OCTOBER
    )
    as_read = [rate.model_dump(mode="json") for rate in changed.commission_history]
    again = write(
        {**STORE, "commission_percent": 10.0, "commission_history": as_read}, changed, MID_OCTOBER
    )

    assert history(changed) == [("2026-10-01", 15.0), ("2026-10-16", 12.0)]
    assert history(again) == [("2026-10-01", 15.0), ("2026-10-16", 10.0)]


def test_a_second_change_on_the_same_day_replaces_that_days_rate() -> None:
    that_evening = MID_OCTOBER + timedelta(hours=6)

    changed_again = write(
        {**STORE, "commission_percent": 10.0}, store_changed_mid_october(), that_evening
    )
    changed_back = write(STORE, changed_again, that_evening)

    assert history(changed_again) == [("2026-10-01", 15.0), ("2026-10-16", 10.0)]
    assert history(changed_back) == [("2026-10-01", 15.0)]


def test_ops_correct_the_history_by_writing_it_whole() -> None:
    corrected = [
        {"effective_from": "2026-09-01", "percent": 17.5},
        {"effective_from": "2026-10-11", "percent": 12.0},
    ]

    outlet = write(
        {**STORE, "commission_percent": 12.0, "commission_history": corrected},
        store_changed_mid_october(),
        MID_OCTOBER,
    )

    assert history(outlet) == [("2026-09-01", 17.5), ("2026-10-11", 12.0)]
    assert outlet.commission_on(date(2026, 10, 10)) == 17.5


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
    with pytest.raises(InvalidField) as refused:
        write(body, write(STORE))

    assert refused.value.field == field
    assert words in str(refused.value)
    assert str(refused.value).startswith(f"{field}: ")


def test_an_outlet_that_takes_no_commission_keeps_no_history() -> None:
    kiosk = write(KIOSK, store_changed_mid_october(), MID_OCTOBER)

    assert kiosk.commission_percent is None
    assert kiosk.commission_history == []


def test_an_outlet_stored_before_histories_starts_one_at_its_last_write() -> None:
    stored_before = OutletChanged.model_validate(
        {**STORE, "outlet_id": "IDM-1", "version": 3, "changed_at": START - timedelta(days=20)}
    )

    changed = write({**STORE, "commission_percent": 12.0}, stored_before, MID_OCTOBER)

    assert history(changed) == [("2026-09-11", 15.0), ("2026-10-16", 12.0)]


def test_an_outlet_sheet_sets_the_rate_and_the_history_follows() -> None:
    sheet = (
        "outlet_id;name;channel;address;commission_percent\n"
        "IDM-1;Indomaret Jl. Kusuma Bangsa;indomaret;Tanah Grogot;10\n"
    )
    report = Report("outlets", dry_run=False)
    [row] = read("outlets", sheet.encode(), report)

    imported = next_revision(
        OUTLET,
        row.entity_id,
        row.details,
        store_changed_mid_october(),
        None,
        MID_OCTOBER + timedelta(days=10),
    )

    assert report.problems == []
    assert isinstance(imported, OutletChanged)
    assert history(imported) == [
        ("2026-10-01", 15.0),
        ("2026-10-16", 12.0),
        ("2026-10-26", 10.0),
    ]
