"""Texts producers read, and signatures receivers check, without Kafka or HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lumbung.notifications.messages import (
    WITA,
    RestockLine,
    ops_alert,
    restock_digest,
    restock_request,
    rupiah,
    wita,
)
from lumbung.notifications.signing import (
    ActionToken,
    BadToken,
    make_token,
    read_token,
    sign,
    verify,
)

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=WITA)
LINE = RestockLine(
    outlet_name="Booth Porprov Stadion Sadurengas",
    product_name="Amplang Ikan 250 g",
    qty=40,
    unit="pack",
    needed_by=NOW + timedelta(days=1),
    accept_url="https://lumbung.example/r/abc?a=accept",
    decline_url="https://lumbung.example/r/abc?a=decline",
)


@pytest.mark.parametrize(
    ("amount", "text"), [(15000, "Rp 15.000"), (1250000, "Rp 1.250.000"), (500, "Rp 500")]
)
def test_rupiah_is_written_the_indonesian_way(amount: int, text: str) -> None:
    assert rupiah(amount) == text


def test_times_are_in_wita_whatever_zone_they_come_in() -> None:
    assert wita(datetime(2026, 11, 30, 1, 0, tzinfo=UTC)) == "Sen, 30 Nov 2026 09.00 WITA"
    assert wita(datetime(2026, 11, 30, 1, 0, tzinfo=UTC), "en") == "Mon, 30 Nov 2026 09:00 WITA"


def test_a_restock_request_says_what_where_how_many_and_by_when_in_the_suppliers_language() -> None:
    indonesian = restock_request("id", "Bu Sari", LINE)
    assert (
        indonesian.subject == "Perlu restok: Amplang Ikan 250 g di Booth Porprov Stadion Sadurengas"
    )
    assert "40 pack Amplang Ikan 250 g" in indonesian.text
    assert "Sel, 1 Des 2026 09.00 WITA" in indonesian.text
    assert LINE.accept_url in indonesian.text
    assert LINE.decline_url in indonesian.text
    english = restock_request("en", "Andi", LINE)
    assert "needs 40 pack of Amplang Ikan 250 g by Tue, 1 Dec 2026 09:00 WITA" in english.text


def test_a_digest_lists_every_request_once() -> None:
    lines = [LINE] * 20
    digest = restock_digest("id", "Bu Sari", lines)
    assert digest.subject == "20 permintaan restok"
    assert digest.text.count("Amplang Ikan 250 g") == 20
    assert "20. Booth Porprov" in digest.text


def test_ops_alerts_name_the_booth_and_the_product() -> None:
    assert "mohon hitung ulang" in ops_alert("negative_stock", "IKN", "Madu Kelulut", -3).text
    assert ops_alert("out_of_stock", "IKN", "Madu Kelulut", 0).subject.startswith("Stok habis")


def test_a_webhook_signature_verifies_and_refuses_tampering_and_replays() -> None:
    body = b'{"restock_id":"R-1"}'
    header = sign("s3cret", body, NOW)
    assert verify("s3cret", header, body, NOW + timedelta(seconds=30))
    assert not verify("s3cret", header, body + b" ", NOW)
    assert not verify("other", header, body, NOW)
    assert not verify("s3cret", header, body, NOW + timedelta(minutes=10))
    assert not verify("s3cret", "garbage", body, NOW)


def test_an_action_link_token_reads_back_and_refuses_forgery_and_expiry() -> None:
    token = ActionToken("accept", "R-1", "SUP-SARI", NOW + timedelta(days=2), "n1")
    text = make_token("s3cret", token)
    assert read_token("s3cret", text, NOW) == ActionToken(
        "accept", "R-1", "SUP-SARI", (NOW + timedelta(days=2)).astimezone(UTC), "n1"
    )
    with pytest.raises(BadToken, match="not valid"):
        read_token("other", text, NOW)
    with pytest.raises(BadToken, match="not valid"):
        read_token("s3cret", text[:-2] + "00", NOW)
    with pytest.raises(BadToken, match="expired"):
        read_token("s3cret", text, NOW + timedelta(days=3))
    with pytest.raises(BadToken, match="not valid"):  # found by schemathesis: was a 500
        read_token("s3cret", text.split(".")[0] + ".tøken", NOW)
