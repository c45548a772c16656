"""One example of every event type, for the AsyncAPI document (`lumbung.contracts.asyncapi`).

A Porprov day at the IKN kiosk and its neighbours, from the demo catalog's Paser products.
Each payload is built with its model, so an example the contract would refuse cannot be
written here; every version of an event type shows the same payload (version 1 accepts all
that version 2 does), and the tests check each example against its frozen JSON Schema.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from hashlib import sha256
from typing import Any, NamedTuple
from uuid import uuid5

import orjson

from lumbung.contracts.envelope import encode
from lumbung.contracts.events import books, catalog, inventory, notifications, orders, pos, restock
from lumbung.contracts.events.common import Payload
from lumbung.contracts.ids import LUMBUNG_NAMESPACE
from lumbung.contracts.registry import EventSpec

AT = datetime.fromisoformat("2026-07-14T10:15:02+08:00")
OUTLET, OTHER_OUTLET = "IKN-01", "REST-KM38"
SKU, SUPPLIER = "KERIPIK-PISANG-200", "SUP-KERIPIK"
ORDER, RESTOCK = "ORD-20260714-0042", "RST-IKN-01-KERIPIK-PISANG-200-7"
PREDICTION = "SOP-IKN-01-KERIPIK-PISANG-200-3"
CONSIGNMENT_OUTLET = "IDM-GROGOT-1"
STATEMENT = f"ST-2026-07-{SUPPLIER}-{CONSIGNMENT_OUTLET}"
SALE_LINE = pos.SaleLine(sku=SKU, qty=3, unit_price_idr=15_000)
ORDER_LINE = orders.OrderLine(sku=SKU, qty=40)
SHORT = inventory.Shortfall(sku=SKU, requested=40, available=12, missing=28)
DELIVERY = {
    "delivery_id": "DLV-7f3a9c",
    "recipient": f"supplier:{SUPPLIER}",
    "channel": notifications.ChannelKind.WHATSAPP,
    "kind": "restock",
    "attempts": 1,
    "causes": ["0d8c7a52-3f0e-5b7e-9a51-2f1e6c4b9d10"],
}


class Example(NamedTuple):
    payload: Payload
    producer: str
    correlation_id: str


EXAMPLES: dict[str, Example] = {
    "pos.SaleRecorded": Example(
        pos.SaleRecorded(
            sale_id="S-000187",
            outlet_id=OUTLET,
            lines=[SALE_LINE, pos.SaleLine(sku="AMPLANG-IKAN-250", qty=1, unit_price_idr=25_000)],
            sold_at=AT,
            receipt_no="IKN01-0187",
            device_id="till-1",
        ),
        f"outlet:{OUTLET}",
        "S-000187",
    ),
    "pos.SaleReturned": Example(
        pos.SaleReturned(
            return_id="R-000012",
            sale_id="S-000187",
            outlet_id=OUTLET,
            lines=[SALE_LINE.model_copy(update={"qty": 1})],
            returned_at=AT + timedelta(minutes=20),
        ),
        f"outlet:{OUTLET}",
        "S-000187",
    ),
    "inventory.StockChanged": Example(
        inventory.StockChanged(
            outlet_id=OUTLET,
            sku=SKU,
            on_hand=57,
            reserved=10,
            available=47,
            delta=-3,
            reason="sale",
            version=214,
        ),
        "inventory",
        "S-000187",
    ),
    "inventory.StockCounted": Example(
        inventory.StockCounted(
            count_id="CNT-20260714-PAGI",
            outlet_id=OUTLET,
            kind=inventory.CountKind.FULL,
            lines=[
                inventory.CountedLine(sku=SKU, counted=60),
                inventory.CountedLine(sku="AMPLANG-IKAN-250", counted=24),
            ],
            counted_at=AT - timedelta(hours=3),
        ),
        f"outlet:{OUTLET}",
        "CNT-20260714-PAGI",
    ),
    "inventory.StockAdjusted": Example(
        inventory.StockAdjusted(
            adjustment_id="ADJ-0031",
            outlet_id=OUTLET,
            sku=SKU,
            delta=-2,
            reason=inventory.AdjustmentReason.DAMAGED,
            note="Kemasan sobek / torn packs",
        ),
        f"outlet:{OUTLET}",
        "ADJ-0031",
    ),
    "inventory.TransferRequested": Example(
        inventory.TransferRequested(
            transfer_id="TRF-0007",
            from_outlet_id=OTHER_OUTLET,
            to_outlet_id=OUTLET,
            lines=[inventory.TransferLine(sku=SKU, qty=20)],
        ),
        "ops",
        "TRF-0007",
    ),
    "inventory.TransferArrived": Example(
        inventory.TransferArrived(
            transfer_id="TRF-0007",
            from_outlet_id=OTHER_OUTLET,
            to_outlet_id=OUTLET,
            lines=[inventory.TransferLine(sku=SKU, qty=20)],
        ),
        "inventory",
        "TRF-0007",
    ),
    "inventory.RestockReceived": Example(
        inventory.RestockReceived(
            receipt_id="RCV-0019", outlet_id=OUTLET, sku=SKU, qty=40, restock_id=RESTOCK
        ),
        f"outlet:{OUTLET}",
        RESTOCK,
    ),
    "inventory.StockLevelsSet": Example(
        inventory.StockLevelsSet(outlet_id=OUTLET, sku=SKU, reorder_point=10, par_level=60),
        "ops",
        f"levels:{OUTLET}:{SKU}",
    ),
    "inventory.StockReserved": Example(
        inventory.StockReserved(
            order_id=ORDER,
            outlet_id=OUTLET,
            lines=[inventory.ReservedLine(sku=SKU, qty=40)],
        ),
        "inventory",
        ORDER,
    ),
    "inventory.ReservationRejected": Example(
        inventory.ReservationRejected(order_id=ORDER, outlet_id=OUTLET, shortfall=[SHORT]),
        "inventory",
        ORDER,
    ),
    "inventory.StockAlertRaised": Example(
        inventory.StockAlertRaised(
            alert=inventory.AlertKind.LOW_STOCK,
            outlet_id=OUTLET,
            sku=SKU,
            on_hand=9,
            available=9,
            reorder_point=10,
            message="Stok menipis / low stock",
        ),
        "inventory",
        "S-000201",
    ),
    "restock.RestockRequested": Example(
        restock.RestockRequested(
            restock_id=RESTOCK,
            outlet_id=OUTLET,
            sku=SKU,
            supplier_id=SUPPLIER,
            suggested_qty=51,
            available=9,
            reorder_point=10,
            par_level=60,
        ),
        "inventory",
        RESTOCK,
    ),
    "restock.RestockClosed": Example(
        restock.RestockClosed(restock_id=RESTOCK, outlet_id=OUTLET, sku=SKU, received_qty=40),
        "inventory",
        RESTOCK,
    ),
    "restock.RestockAccepted": Example(
        restock.RestockAccepted(
            restock_id=RESTOCK,
            outlet_id=OUTLET,
            sku=SKU,
            supplier_id=SUPPLIER,
            qty=40,
            expected_at=AT + timedelta(days=1),
        ),
        "notifications",
        RESTOCK,
    ),
    "restock.RestockOverdue": Example(
        restock.RestockOverdue(
            restock_id=RESTOCK,
            outlet_id=OUTLET,
            sku=SKU,
            on_order=16,
            expected_at=AT + timedelta(days=1),
        ),
        "inventory",
        RESTOCK,
    ),
    "inventory.StockoutPredicted": Example(
        inventory.StockoutPredicted(
            prediction_id=PREDICTION,
            outlet_id=OUTLET,
            sku=SKU,
            supplier_id=SUPPLIER,
            available=14,
            on_order=0,
            expected_at=AT + timedelta(hours=27),
            units_per_hour=2.5,
            lead_time_hours=48,
            reason="14 left, selling 2.5 an hour: out around 13:15 tomorrow; "
            "the supplier needs 48 hours",
        ),
        "inventory",
        PREDICTION,
    ),
    "inventory.StockoutCleared": Example(
        inventory.StockoutCleared(
            prediction_id=PREDICTION,
            outlet_id=OUTLET,
            sku=SKU,
            cleared_by=inventory.ClearedBy.RESTOCK,
            available=54,
        ),
        "inventory",
        PREDICTION,
    ),
    "inventory.ReturnRefused": Example(
        inventory.ReturnRefused(
            return_id="RET-IKN-01-0007",
            sale_id="S-IKN-01-0042",
            outlet_id=OUTLET,
            kind="return",
            reason=inventory.ReturnRefusal.MORE_THAN_SOLD,
            message="KERIPIK-PISANG-200: 5 back, but the sale has 3 left to return",
        ),
        "inventory",
        "S-IKN-01-0042",
    ),
    "inventory.PriceFlagged": Example(
        inventory.PriceFlagged(
            outlet_id=OUTLET,
            sale_id="S-IKN-01-0042",
            sku=SKU,
            qty=3,
            unit_price_idr=10_000,
            outlet_price_idr=15_000,
            difference_percent=-33.3,
            tolerance_percent=10.0,
            sold_at=AT,
        ),
        "inventory",
        "S-IKN-01-0042",
    ),
    "inventory.TransferDispatched": Example(
        inventory.TransferDispatched(
            transfer_id="TRF-0042",
            from_outlet_id=OUTLET,
            to_outlet_id=OTHER_OUTLET,
            lines=[inventory.TransferLine(sku=SKU, qty=12)],
            dispatched_at=AT,
            expected_at=AT + timedelta(hours=3),
        ),
        "inventory",
        "TRF-0042",
    ),
    "inventory.GoodsSentBack": Example(
        inventory.GoodsSentBack(
            sendback_id="RB-0004",
            outlet_id=OUTLET,
            lines=[inventory.TransferLine(sku=SKU, qty=6)],
            reason=inventory.SendBackReason.EXPIRED,
            sent_at=AT + timedelta(days=2),
            note="Lewat tanggal / past best-before",
        ),
        f"outlet:{OUTLET}",
        "RB-0004",
    ),
    "inventory.TransferOverdue": Example(
        inventory.TransferOverdue(
            transfer_id="TRF-0042",
            from_outlet_id=OUTLET,
            to_outlet_id=OTHER_OUTLET,
            lines=[inventory.TransferLine(sku=SKU, qty=12)],
            expected_at=AT + timedelta(hours=3),
        ),
        "inventory",
        "TRF-0042",
    ),
    "inventory.BoothClosed": Example(
        inventory.BoothClosed(
            close_id="CLOSE-PORPROV-B1",
            outlet_id="PORPROV-B1",
            lines=[inventory.CountedLine(sku=SKU, counted=7)],
            closed_at=AT + timedelta(days=5),
        ),
        "outlet:PORPROV-B1",
        "CLOSE-PORPROV-B1",
    ),
    "inventory.CloseOutDue": Example(
        inventory.CloseOutDue(
            outlet_id="PORPROV-B1",
            window_ends_at=AT + timedelta(days=5),
            skus=3,
            units=19,
            message="Stand tutup: hitung sisa stok / the booth closed: count what is left",
        ),
        "inventory",
        "PORPROV-B1",
    ),
    "inventory.BoothClosedOut": Example(
        inventory.BoothClosedOut(
            close_id="CLOSE-PORPROV-B1",
            outlet_id="PORPROV-B1",
            closed_at=AT + timedelta(days=5),
            window_starts_at=AT,
            window_ends_at=AT + timedelta(days=5),
            lines=[
                inventory.CloseOutLine(
                    sku=SKU,
                    sold=113,
                    revenue_idr=1_695_000,
                    left_over=7,
                    difference=-1,
                    stockout_minutes=42,
                    leftovers_to=inventory.LeftoversTo.HOME,
                    destination_id=OUTLET,
                )
            ],
            revenue_idr=1_695_000,
            transfer_id="CLOSE-PORPROV-B1",
        ),
        "inventory",
        "CLOSE-PORPROV-B1",
    ),
    "inventory.ExpiryAlert": Example(
        inventory.ExpiryAlert(
            kind=inventory.ExpiryKind.SOON,
            outlet_id=OUTLET,
            sku="MADU-KELULUT-250",
            batch_code="MK-2607-A",
            best_before=date(2026, 7, 16),
            qty=9,
            message="9 of batch MK-2607-A are good through 16 July: sell them first",
        ),
        "inventory",
        f"{OUTLET}|2026-07-14|expiry",
    ),
    "restock.RestockSuggested": Example(
        restock.RestockSuggested(
            restock_id=RESTOCK,
            outlet_id=OUTLET,
            sku=SKU,
            supplier_id=SUPPLIER,
            suggested_qty=120,
            available=14,
            reason="about 130 expected to sell by Sat 16:00; 14 left; "
            "arrives Thu 10:00 at the earliest; 10 packs of 12",
            send_at=AT + timedelta(minutes=10),
        ),
        "inventory",
        RESTOCK,
    ),
    "inventory.RestockQuantitySet": Example(
        inventory.RestockQuantitySet(
            outlet_id=OUTLET, sku=SKU, restock_id=RESTOCK, qty=96, send_now=True
        ),
        "inventory",
        RESTOCK,
    ),
    "restock.RestockDeclined": Example(
        restock.RestockDeclined(
            restock_id=RESTOCK,
            outlet_id=OUTLET,
            sku=SKU,
            supplier_id=SUPPLIER,
            reason="Pisang belum panen / no bananas until next week",
        ),
        "notifications",
        RESTOCK,
    ),
    "orders.OrderPlaced": Example(
        orders.OrderPlaced(
            order_id=ORDER,
            outlet_id=OUTLET,
            kind=orders.OrderKind.SOUVENIR_BULK,
            lines=[ORDER_LINE],
            pickup_at=AT + timedelta(days=2),
            customer_name="KBIH Al-Ikhlas Tanah Grogot",
            customer_phone="+6281250019876",
            note="Oleh-oleh jemaah haji",
        ),
        "orders",
        ORDER,
    ),
    "orders.OrderReserved": Example(
        orders.OrderReserved(order_id=ORDER, outlet_id=OUTLET, lines=[ORDER_LINE]),
        "orders",
        ORDER,
    ),
    "orders.OrderRejected": Example(
        orders.OrderRejected(order_id=ORDER, outlet_id=OUTLET, shortfall=[SHORT]),
        "orders",
        ORDER,
    ),
    "orders.OrderCancelled": Example(
        orders.OrderCancelled(order_id=ORDER, outlet_id=OUTLET, reason="customer asked"),
        "orders",
        ORDER,
    ),
    "orders.OrderExpired": Example(
        orders.OrderExpired(order_id=ORDER, outlet_id=OUTLET), "orders", ORDER
    ),
    "orders.OrderFulfilled": Example(
        orders.OrderFulfilled(order_id=ORDER, outlet_id=OUTLET), "orders", ORDER
    ),
    "orders.OrderFailed": Example(
        orders.OrderFailed(order_id=ORDER, outlet_id=OUTLET, reason="no answer from inventory"),
        "orders",
        ORDER,
    ),
    "books.StatementIssued": Example(
        books.StatementIssued(
            number=STATEMENT,
            period="2026-07",
            supplier_id=SUPPLIER,
            outlet_id=CONSIGNMENT_OUTLET,
            lines=[
                books.StatementLine(
                    sku=SKU,
                    unit_price_idr=15_000,
                    commission_percent=15.0,
                    sold=120,
                    returned=3,
                    gross_idr=1_755_000,
                    commission_idr=263_250,
                    net_idr=1_491_750,
                )
            ],
            sold=120,
            returned=3,
            gross_idr=1_755_000,
            commission_idr=263_250,
            net_idr=1_491_750,
            refunds_idr=45_000,
        ),
        "books",
        STATEMENT,
    ),
    "books.PaymentRecorded": Example(
        books.PaymentRecorded(
            payment_id="PAY-2026-08-0003",
            number=STATEMENT,
            period="2026-07",
            supplier_id=SUPPLIER,
            outlet_id=CONSIGNMENT_OUTLET,
            amount_idr=1_000_000,
            paid_at=AT + timedelta(days=22),
            method=books.PaymentMethod.TRANSFER,
            note="Transfer BRI, termin pertama / first instalment",
        ),
        "books",
        STATEMENT,
    ),
    "books.ReportProfileSaved": Example(
        books.ReportProfileSaved(
            retailer="indomaret",
            columns=books.ReportColumns(
                store="KODE TOKO",
                plu="PLU",
                barcode="BARCODE",
                date="TANGGAL",
                qty="QTY",
                amount="RUPIAH",
            ),
            date_format="%d/%m/%Y",
            stores={"TGR1": CONSIGNMENT_OUTLET},
            plus={"20117788": SKU},
        ),
        "books",
        "profile|indomaret",
    ),
    "books.ReportImported": Example(
        books.ReportImported(
            report_id="indomaret|TGR1|2026-07",
            retailer="indomaret",
            store="TGR1",
            outlet_id=CONSIGNMENT_OUTLET,
            period_start=date(2026, 7, 1),
            period_end=date(2026, 7, 31),
            digest="5f0c1d8e9a7b6c5d4e3f2a1b0c9d8e7f",
            filename="penjualan-konsinyasi-juli.xlsx",
            lines=[books.ReportLine(day=date(2026, 7, 3), sku=SKU, qty=4, amount_idr=60_000)],
            sale_ids=["RPT-TGR1-20260703"],
            rows_ok=1,
        ),
        "books",
        "report|indomaret|TGR1|2026-07",
    ),
    "notifications.NotificationDelivered": Example(
        notifications.NotificationDelivered(**DELIVERY),
        "notifications",
        RESTOCK,
    ),
    "notifications.NotificationFailed": Example(
        notifications.NotificationFailed(
            **{**DELIVERY, "attempts": 5}, error="gateway answered 503 five times"
        ),
        "notifications",
        RESTOCK,
    ),
    "catalog.ProductChanged": Example(
        catalog.ProductChanged(
            sku=SKU,
            name="Keripik Pisang Manis 200 g",
            supplier_id=SUPPLIER,
            category="camilan",
            unit="pack",
            price_idr=15_000,
            pirt_no="2066401010123-29",
            pack_size=12,
            version=3,
            changed_at=AT - timedelta(days=30),
        ),
        "catalog",
        f"product:{SKU}",
    ),
    "catalog.SupplierChanged": Example(
        catalog.SupplierChanged(
            supplier_id=SUPPLIER,
            name="Keripik Pisang Kuaro",
            # Made-up contact details: an example names no real person.
            owner_name="Ibu Contoh",
            contacts=catalog.ContactChannels(whatsapp="+6281200000000"),
            restock_lead_time_days=2,
            delivery_days=[catalog.Weekday.MONDAY, catalog.Weekday.THURSDAY],
            weekly_capacity=600,
            version=1,
            changed_at=AT - timedelta(days=30),
        ),
        "catalog",
        f"supplier:{SUPPLIER}",
    ),
    "catalog.OutletChanged": Example(
        catalog.OutletChanged(
            outlet_id="BOOTH-PORPROV-GOR",
            name="Booth Porprov GOR Tanah Grogot",
            channel=catalog.Channel.EVENT_BOOTH,
            address="GOR Tanah Grogot, Paser",
            location=catalog.GeoPoint(lat=-1.9097, lon=116.1951),
            active_window=catalog.TimeWindow(
                starts_at=AT - timedelta(days=1), ends_at=AT + timedelta(days=6)
            ),
            calendar_id="PORPROV-2026",
            assortment=[catalog.AssortmentItem(sku=SKU, price_idr=16_000)],
            version=2,
            changed_at=AT - timedelta(days=2),
        ),
        "catalog",
        "outlet:BOOTH-PORPROV-GOR",
    ),
    "catalog.CalendarEventChanged": Example(
        catalog.CalendarEventChanged(
            calendar_id="PORPROV-2026",
            name="Porprov Kaltim 2026, Paser",
            starts_at=AT - timedelta(days=1),
            ends_at=AT + timedelta(days=6),
            venues=[
                catalog.Venue(
                    name="GOR Tanah Grogot", location=catalog.GeoPoint(lat=-1.912, lon=116.201)
                )
            ],
            expected_visitors=45_000,
            sessions=[
                catalog.Session(
                    name="Upacara Pembukaan / opening ceremony",
                    venue="GOR Tanah Grogot",
                    kind=catalog.SessionKind.CEREMONY,
                    starts_at=AT - timedelta(days=1),
                    ends_at=AT - timedelta(days=1) + timedelta(hours=2),
                    expected_visitors=6_000,
                ),
                catalog.Session(
                    name="Bulu tangkis beregu putra / men's team badminton",
                    venue="GOR Tanah Grogot",
                    kind=catalog.SessionKind.MATCH,
                    starts_at=AT + timedelta(hours=3),
                    ends_at=AT + timedelta(hours=6),
                    expected_visitors=1_500,
                ),
            ],
            version=1,
            changed_at=AT - timedelta(days=10),
        ),
        "catalog",
        "calendar:PORPROV-2026",
    ),
    "auth.ApiKeyChanged": Example(
        catalog.ApiKeyChanged(
            key_id="KEY-IKN-01",
            role=catalog.KeyRole.OUTLET,
            subject=OUTLET,
            secret_hash=sha256(b"an example, not a key").hexdigest(),
            label="Till at the IKN kiosk",
            version=1,
            changed_at=AT - timedelta(days=30),
        ),
        "catalog",
        "key:KEY-IKN-01",
    ),
}


def example_event(spec: EventSpec) -> dict[str, Any]:
    """The example of `spec`'s event type in its envelope, as JSON on the wire."""
    example = EXAMPLES[spec.event_type]
    event = spec.envelope_model()(
        event_id=uuid5(LUMBUNG_NAMESPACE, f"example:{spec.event_type}:v{spec.schema_version}"),
        event_type=spec.event_type,
        schema_version=spec.schema_version,
        occurred_at=AT,
        producer=example.producer,
        correlation_id=example.correlation_id,
        # As JSON, so the payload is read by this version's own model.
        data=example.payload.model_dump(mode="json"),
    )
    value: dict[str, Any] = orjson.loads(encode(event))
    return value
