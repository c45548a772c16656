"""The email channel against a real local SMTP server (aiosmtpd), plain and with STARTTLS."""

from __future__ import annotations

import email
import email.policy
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from lumbung.notifications.channels import Delivery, DeliveryFailed, EmailChannel
from lumbung.notifications.signing import DELIVERY_HEADER
from tests.support.fixtures import free_port

DELIVERY = Delivery(
    delivery_id="d-email-123",
    to="sari@amplang.example",
    subject="Perlu restok — Amplang Ikan 250 g di IKN",
    text="Halo Bu Sari, stok tinggal 3 bungkus… mohon kirim 40.",
    data={"restock_id": "R-1", "qty": 40},
)
SENDER = "lumbung@lumbung.example"


@dataclass
class Received:
    message: EmailMessage
    mail_from: str | None
    rcpt_tos: list[str]
    over_tls: bool
    login: bytes | None


@dataclass
class Mailbox:
    """The aiosmtpd handler: records what arrives; refuses recipients when told to."""

    rcpt_answer: str = "250 OK"
    received: list[Received] = field(default_factory=list)

    async def handle_RCPT(
        self, server: Any, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.rcpt_answer.startswith("250"):
            envelope.rcpt_tos.append(address)
        return self.rcpt_answer

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        auth = session.auth_data
        login = auth.login if isinstance(auth, LoginPassword) else None
        self.received.append(
            Received(message, envelope.mail_from, envelope.rcpt_tos, session.ssl is not None, login)
        )
        return "250 OK"


def accept_rahasia(
    server: Any, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    assert isinstance(auth_data, LoginPassword)
    return AuthResult(success=auth_data.password == b"rahasia", auth_data=auth_data)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def client_tls(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


def serve(mailbox: Mailbox, **smtp: Any) -> Iterator[Controller]:
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port(), **smtp)
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture
def mailbox() -> Mailbox:
    return Mailbox()


@pytest.fixture
def plain_server(mailbox: Mailbox) -> Iterator[Controller]:
    yield from serve(mailbox)


@pytest.fixture
def tls_server(mailbox: Mailbox, ca: trustme.CA) -> Iterator[Controller]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    yield from serve(
        mailbox,
        tls_context=context,
        require_starttls=True,
        authenticator=accept_rahasia,
        auth_require_tls=True,
    )


async def test_an_email_arrives_once_with_its_headers_and_utf8_text(
    plain_server: Controller, mailbox: Mailbox
) -> None:
    await EmailChannel("127.0.0.1", plain_server.port, SENDER).send(DELIVERY)

    [received] = mailbox.received
    assert (received.mail_from, received.rcpt_tos) == (SENDER, [DELIVERY.to])
    message = received.message
    assert (message["To"], message["From"]) == (DELIVERY.to, SENDER)
    assert message["Subject"] == DELIVERY.subject
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    assert message.get_content().rstrip("\r\n") == DELIVERY.text
    assert message["Message-ID"] == "<d-email-123@lumbung>"
    assert message[DELIVERY_HEADER] == "d-email-123"
    assert not received.over_tls


async def test_the_channel_upgrades_to_tls_when_offered_and_logs_in_there(
    tls_server: Controller, mailbox: Mailbox, client_tls: ssl.SSLContext
) -> None:
    channel = EmailChannel(
        "127.0.0.1",
        tls_server.port,
        SENDER,
        username="lumbung",
        password="rahasia",
        tls_context=client_tls,
    )
    await channel.send(DELIVERY)

    [received] = mailbox.received
    assert received.over_tls
    assert received.login == b"lumbung"
    assert received.message["Subject"] == DELIVERY.subject


async def test_a_server_whose_certificate_is_not_trusted_gets_nothing(
    tls_server: Controller, mailbox: Mailbox
) -> None:
    with pytest.raises(DeliveryFailed, match="CERTIFICATE_VERIFY_FAILED"):
        await EmailChannel("127.0.0.1", tls_server.port, SENDER).send(DELIVERY)
    assert mailbox.received == []


async def test_forced_starttls_sends_nothing_in_the_clear(
    plain_server: Controller, mailbox: Mailbox
) -> None:
    channel = EmailChannel("127.0.0.1", plain_server.port, SENDER, starttls=True)
    with pytest.raises(DeliveryFailed) as failed:
        await channel.send(DELIVERY)
    assert not failed.value.retry
    assert mailbox.received == []


@pytest.mark.parametrize(
    ("answer", "retry"), [("550 no such user", False), ("451 try again later", True)]
)
async def test_a_refused_recipient_says_whether_trying_again_may_help(
    plain_server: Controller, mailbox: Mailbox, answer: str, retry: bool
) -> None:
    mailbox.rcpt_answer = answer
    with pytest.raises(DeliveryFailed) as failed:
        await EmailChannel("127.0.0.1", plain_server.port, SENDER).send(DELIVERY)
    assert failed.value.retry is retry
    assert mailbox.received == []


async def test_an_unreachable_smtp_server_is_worth_another_try() -> None:
    with pytest.raises(DeliveryFailed) as failed:
        await EmailChannel("127.0.0.1", free_port(), SENDER, timeout_s=2).send(DELIVERY)
    assert failed.value.retry
