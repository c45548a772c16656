"""The webhook and WhatsApp gateway channels against a real local HTTP receiver."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import httpx
import orjson
import pytest

from lumbung.notifications.channels import (
    Delivery,
    DeliveryFailed,
    WebhookChannel,
    WhatsAppGatewayChannel,
)
from lumbung.notifications.signing import DELIVERY_HEADER, SIGNATURE_HEADER, verify
from tests.support.receivers import Receiver

DELIVERY = Delivery(
    delivery_id="d-123",
    to="",
    subject="Perlu restok: Amplang Ikan 250 g di IKN",
    text="Halo Bu Sari, …",
    data={"restock_id": "R-1", "qty": 40},
)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


async def test_a_webhook_is_signed_so_the_receiver_can_verify_it(receiver: Receiver) -> None:
    async with httpx.AsyncClient() as client:
        await WebhookChannel(client, "shared-secret").send(
            Delivery(**{**DELIVERY.__dict__, "to": f"{receiver.url}/hook"})
        )
    first = receiver.requests[0]
    path, headers, body = first.path, first.headers, first.body
    assert path == "/hook"
    assert headers[DELIVERY_HEADER] == "d-123"
    assert verify("shared-secret", headers[SIGNATURE_HEADER], body, datetime.now().astimezone())
    assert orjson.loads(body)["data"] == {"restock_id": "R-1", "qty": 40}


@pytest.mark.parametrize(("status", "retry"), [(500, True), (429, True), (400, False)])
async def test_a_refusal_says_whether_trying_again_may_help(
    receiver: Receiver, status: int, retry: bool
) -> None:
    receiver.answers.append(status)
    async with httpx.AsyncClient() as client:
        with pytest.raises(DeliveryFailed) as failed:
            await WebhookChannel(client, "s").send(
                Delivery(**{**DELIVERY.__dict__, "to": receiver.url})
            )
    assert failed.value.retry is retry


async def test_an_unreachable_receiver_is_worth_another_try() -> None:
    async with httpx.AsyncClient() as client:
        with pytest.raises(DeliveryFailed) as failed:
            await WebhookChannel(client, "s", timeout_s=2).send(
                Delivery(**{**DELIVERY.__dict__, "to": "http://127.0.0.1:1/hook"})
            )
    assert failed.value.retry


async def test_the_whatsapp_gateway_gets_the_number_the_text_and_the_reference(
    receiver: Receiver,
) -> None:
    async with httpx.AsyncClient() as client:
        await WhatsAppGatewayChannel(client, f"{receiver.url}/messages", "tok").send(
            Delivery(**{**DELIVERY.__dict__, "to": "+6281250011005"})
        )
    headers, body = receiver.requests[0].headers, receiver.requests[0].body
    assert headers["Authorization"] == "Bearer tok"
    sent = orjson.loads(body)
    assert (sent["to"], sent["reference"]) == ("+6281250011005", "d-123")
    assert sent["text"].startswith("Perlu restok")


async def test_a_gateway_without_a_token_gets_no_authorization_header(
    receiver: Receiver,
) -> None:
    # Found by the chaos run: an empty token made "Bearer " an illegal header, and every
    # WhatsApp message failed after its last attempt.
    async with httpx.AsyncClient() as client:
        await WhatsAppGatewayChannel(client, f"{receiver.url}/messages", "").send(
            Delivery(**{**DELIVERY.__dict__, "to": "+6281250011005"})
        )
    assert "Authorization" not in receiver.requests[0].headers
