"""Reading products, suppliers and outlets from CSV files exported by a spreadsheet.

Comma or semicolon separated, UTF-8 with or without a byte-order mark. Row numbers are
the spreadsheet's: the header is row 1. Every problem is said in plain words, e.g.
"row 14: price_idr 'lima ribu' is not a number".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from lumbung.catalog.domain import OUTLET, PRODUCT, SUPPLIER, Kind
from lumbung.contracts.bounds import WIRE_MAX, whole_number
from lumbung.contracts.events.common import Payload
from lumbung.platform.sheets import SheetError, cell
from lumbung.platform.sheets import rows as sheet_rows

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class SpreadsheetError(Exception):
    """The file as a whole cannot be read (encoding, header); nothing is imported."""


@dataclass(frozen=True)
class Row:
    number: int
    entity_id: str
    details: Payload


@dataclass
class Report:
    kind: str
    dry_run: bool
    rows: int = 0
    imported: list[str] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)

    def refuse(self, number: int, message: str) -> None:
        self.problems.append({"row": number, "message": f"row {number}: {message}"})


def rupiah(text: str) -> int | str:
    """'Rp 25.000' → 25000; anything else is handed on for the model to refuse."""
    cleaned = text.strip().removeprefix("Rp").removeprefix("rp").strip().replace(".", "")
    value = whole_number(cleaned, WIRE_MAX)
    return text if value is None else value


def _blank_to_none(value: str | None) -> str | None:
    return None if value is None or value.strip() == "" else value.strip()


def _flag(text: str | None) -> bool | str:
    if text is None or text.strip() == "":
        return True
    lowered = text.strip().lower()
    if lowered in ("1", "true", "ya", "yes", "y", "aktif"):
        return True
    if lowered in ("0", "false", "tidak", "no", "n", "nonaktif"):
        return False
    return text


def _assortment(text: str | None) -> list[dict[str, Any]] | str:
    items = []
    for part in re.split(r"[|,\s]+", text or ""):
        if not part:
            continue
        sku, _, price = part.partition(":")
        items.append({"sku": sku, "price_idr": rupiah(price) if price else None})
    return items


def _weekdays(text: str) -> list[str]:
    """'mon, Thu' → ['mon', 'thu']: the model says which of them is not a weekday."""
    return [part.lower() for part in re.split(r"[|,\s]+", text) if part]


def _given(row: dict[str, Any], cells: dict[str, str | None], column: str) -> None:
    """A blank cell leaves the field to its default."""
    text = _blank_to_none(cells.get(column))
    if text is not None:
        row[column] = text


def _product(cells: dict[str, str | None]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "name": cells.get("name"),
        "supplier_id": cells.get("supplier_id"),
        "category": cells.get("category"),
        "unit": cells.get("unit"),
        "price_idr": rupiah(cells.get("price_idr") or ""),
        "barcode": cells.get("barcode"),
        "halal_cert_no": cells.get("halal_cert_no"),
        "pirt_no": cells.get("pirt_no"),
        "active": _flag(cells.get("active")),
    }
    _given(row, cells, "pack_size")
    cost = _blank_to_none(cells.get("cost_idr"))
    if cost is not None:
        row["cost_idr"] = rupiah(cost)
    return row


def _supplier(cells: dict[str, str | None]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "name": cells.get("name"),
        "owner_name": cells.get("owner_name"),
        "contacts": {
            "whatsapp": cells.get("whatsapp"),
            "email": cells.get("email"),
            "webhook_url": cells.get("webhook_url"),
        },
        "language": cells.get("language") or "id",
    }
    if cells.get("restock_lead_time_days"):
        row["restock_lead_time_days"] = cells["restock_lead_time_days"]
    days = _blank_to_none(cells.get("delivery_days"))
    if days is not None:
        row["delivery_days"] = _weekdays(days)
    _given(row, cells, "weekly_capacity")
    return row


def _outlet(cells: dict[str, str | None]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "name": cells.get("name"),
        "channel": cells.get("channel"),
        "address": cells.get("address"),
        "timezone": cells.get("timezone") or "Asia/Makassar",
        "commission_percent": cells.get("commission_percent"),
        "calendar_id": cells.get("calendar_id"),
        "assortment": _assortment(cells.get("assortment")),
    }
    _given(row, cells, "sales_source")
    if cells.get("lat") or cells.get("lon"):
        row["location"] = {"lat": cells.get("lat"), "lon": cells.get("lon")}
    if cells.get("active_from") or cells.get("active_until"):
        row["active_window"] = {
            "starts_at": cells.get("active_from"),
            "ends_at": cells.get("active_until"),
        }
    return row


@dataclass(frozen=True)
class Sheet:
    kind: Kind
    id_column: str
    columns: tuple[str, ...]
    to_fields: Callable[[dict[str, str | None]], dict[str, Any]]


SHEETS = {
    "products": Sheet(
        PRODUCT,
        "sku",
        (
            "sku",
            "name",
            "supplier_id",
            "category",
            "unit",
            "price_idr",
            "barcode",
            "halal_cert_no",
            "pirt_no",
            "active",
            "pack_size",
            "cost_idr",
        ),
        _product,
    ),
    "suppliers": Sheet(
        SUPPLIER,
        "supplier_id",
        (
            "supplier_id",
            "name",
            "owner_name",
            "whatsapp",
            "email",
            "webhook_url",
            "language",
            "restock_lead_time_days",
            "delivery_days",
            "weekly_capacity",
        ),
        _supplier,
    ),
    # No commission_history column: a row sets commission_percent, and the catalog keeps
    # the history from it (a new rate takes effect on the day of the import).
    "outlets": Sheet(
        OUTLET,
        "outlet_id",
        (
            "outlet_id",
            "name",
            "channel",
            "address",
            "lat",
            "lon",
            "timezone",
            "active_from",
            "active_until",
            "commission_percent",
            "calendar_id",
            "assortment",
            "sales_source",
        ),
        _outlet,
    ),
}


def _plain(error: Any, fields: dict[str, Any]) -> str:
    loc = [str(p) for p in error["loc"]]
    message = str(error["msg"]).removeprefix("Value error, ")
    if not loc:
        return message
    value: Any = fields
    for part in error["loc"]:
        try:
            value = value[part]
        except (KeyError, IndexError, TypeError):
            value = None
            break
    if isinstance(error["loc"][-1], int) and not isinstance(value, (dict, list)):
        # One item of a list written in one cell ("mon,senin"): the cell is the place.
        loc = loc[:-1]
    name = ".".join(loc)
    shown = cell(value)
    if error["type"] in ("int_parsing", "int_parsing_size", "float_parsing", "int_from_float"):
        return f"{name} {shown} is not a number"
    if error["type"] == "missing" or (value is None and error["type"] == "string_type"):
        return f"{name} is missing"
    if value is not None and not isinstance(value, (dict, list)):
        return f"{name} {shown}: {message}"
    return f"{name}: {message}"


def read(sheet_name: str, data: bytes, report: Report) -> list[Row]:
    """The rows that are valid on their own; the others are refused in `report`."""
    sheet = SHEETS[sheet_name]
    rows: list[Row] = []
    seen: dict[str, int] = {}
    try:
        numbered = list(sheet_rows(data, sheet.columns, [sheet.id_column]))
    except SheetError as exc:
        raise SpreadsheetError(str(exc)) from None
    for number, cells in numbered:
        report.rows += 1
        entity_id = cells.get(sheet.id_column) or ""
        if not _ID.match(entity_id):
            report.refuse(
                number,
                f"{sheet.id_column} {entity_id!r} must be letters, digits, . _ or - (no spaces)",
            )
            continue
        if entity_id in seen:
            report.refuse(
                number, f"{sheet.id_column} {entity_id!r} is already on row {seen[entity_id]}"
            )
            continue
        fields = sheet.to_fields(cells)
        try:
            details = sheet.kind.details.model_validate(fields)
        except ValidationError as exc:
            report.refuse(number, "; ".join(_plain(e, fields) for e in exc.errors()))
            continue
        seen[entity_id] = number
        rows.append(Row(number, entity_id, details))
    return rows
