"""The notifications worker, as declarations on the platform's stream kernel.

    lumbung-notifications worker [--jobs route,outbox]

- `route`: events that may call for a message, forwarded to `notifications.outbox` by
  recipient (`handlers.route`);
- `outbox`: the messages they make, digests closed by a tick, and the delivery log folded
  back (`handlers.Outbox`); one transaction per batch holds them with the input offsets.
  Each new message goes to the sender once its transaction has committed; the sender
  delivers it (WhatsApp gateway, SMTP, webhooks) with retries, and writes the outcome,
  `NotificationDelivered` or `NotificationFailed`, to `notifications.deliveries`, which
  the stream reads back. At least once: a message whose outcome never came back is sent
  again with the same delivery id, which receivers drop.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

import httpx

from lumbung.contracts import derived_event_id, make_event
from lumbung.contracts.events.notifications import (
    ChannelKind,
    NotificationDelivered,
    NotificationFailed,
)
from lumbung.notifications.channels import (
    Channel,
    EmailChannel,
    WebhookChannel,
    WhatsAppGatewayChannel,
)
from lumbung.notifications.handlers import ROUTED, Outbox, route_handlers
from lumbung.notifications.plan import OpsContacts, Planner, channels_on
from lumbung.notifications.plan import webhook_secret as secret_for
from lumbung.notifications.sender import Outcome, Record, Sender
from lumbung.notifications.settings import Settings
from lumbung.platform.clock import Clock, clock_from_env
from lumbung.platform.kernel import Kernel, Stream
from lumbung.platform.publisher import EventPublisher
from lumbung.platform.shell import run_jobs
from lumbung.platform.views import CatalogView

log = logging.getLogger(__name__)
SERVICE = "notifications"
PRODUCER = "notifications-worker"
JOBS = frozenset({"route", "outbox"})
SETTLED_KEEP_S = 60.0
"""How long a message whose outcome was written is not handed to the sender again,
while the stream has not read the outcome back yet."""


def incarnation(record: Record) -> tuple[str, ...]:
    """What tells a message apart from an earlier one with the same delivery id: a failed
    message is forgotten once its failure is read back, and its cause, produced again from
    the DLQ, makes it anew (at a later time, from a new offset). Only the message whose
    outcome was written is held back, never the one made again: that one waited out
    SETTLED_KEEP_S before it went (57 s in the delivery-faults test)."""
    return (record["t"], *(cause["origin"] for cause in record["causes"]))


class Worker:
    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        registry = self.registry = settings.registry
        bootstrap = settings.kafka_bootstrap_servers
        self.clock = clock or clock_from_env()
        self.catalog = CatalogView(bootstrap, registry, SERVICE)
        planner = Planner(
            self.catalog,
            OpsContacts(settings.ops_webhook_url, settings.ops_email, settings.ops_whatsapp),
            settings.public_url,
            settings.secret_key,
            timedelta(seconds=settings.link_ttl_s),
            channels_on(settings.smtp_host, settings.whatsapp_gateway_url),
        )
        outbox = Outbox(planner, timedelta(seconds=settings.digest_window_s), registry)
        options: dict[str, Any] = {
            "clock": self.clock,
            "replication_factor": settings.replication_factor,
            "instance_id": settings.worker_instance,
            "max_records": 1000,
        }
        self.route = Kernel(
            Stream(
                SERVICE,
                "route",
                ROUTED,
                route_handlers(registry),
                with_record=True,
                stateful=False,
            ),
            registry,
            bootstrap,
            **options,
        )
        self.outbox = Kernel(
            Stream(
                SERVICE,
                "outbox",
                ("notifications.outbox", "notifications.deliveries"),
                outbox.handlers(),
                ticks=outbox.ticks(),
                with_record=True,
                # Its ticks close digests whose window passed and hand pending messages
                # over again: nothing a backlog could contradict, and a busy delivery log
                # must not hold them back.
                ticks_wait_for_inputs=False,
            ),
            registry,
            bootstrap,
            after_commit=self.deliver,
            on_dropped=self.dropped,
            **options,
        )
        self.http: httpx.AsyncClient | None = None
        self.outcomes = EventPublisher(bootstrap, registry, SERVICE)
        self.sender = Sender(
            self.channel_for,
            self.settle,
            settings.attempts,
            settings.backoff_s,
            settings.backoff_max_s,
            settings.concurrency,
        )
        self._settled: dict[str, tuple[tuple[str, ...], float]] = {}
        """Delivery ids whose outcome was written but not yet read back, with the message's
        `incarnation` and when: that message is not sent again."""
        self._task_of: dict[str, int] = {}
        """The task (outbox partition) of each message handed to the sender."""

    # -- the outbox job: the catalog first, then the stream, the sender beside it ----------

    async def run_outbox(self) -> None:
        await self.catalog.start()
        await self.outcomes.start()
        self.http = httpx.AsyncClient(timeout=self.settings.send_timeout_s)
        try:
            await self.outbox.run()
        finally:
            await self.sender.close()
            await self.http.aclose()
            await self.outcomes.stop()
            await self.catalog.stop()

    def deliver(self, task: int, records: list[Record]) -> None:
        """Messages whose transaction committed (or still pending): to the sender."""
        clock = time.monotonic()
        self._settled = {
            k: (which, at)
            for k, (which, at) in self._settled.items()
            if clock - at < SETTLED_KEEP_S
        }
        self._task_of = {k: t for k, t in self._task_of.items() if self.sender.busy_with(k)}
        for record in records:
            settled = self._settled.get(record["id"])
            if settled is None or settled[0] != incarnation(record):
                self._task_of[record["id"]] = task
                self.sender.schedule(record)  # skips one it is sending already

    def dropped(self, task: int) -> None:
        """A task moved elsewhere (or this worker stops): its new owner sends its messages,
        so those under way here stop (a second email or WhatsApp could not be taken back)."""
        stopped = self.sender.cancel(lambda record: self._task_of.get(record["id"]) != task)
        if stopped:
            log.info("stopped %d deliveries of task %d, now elsewhere", stopped, task)

    def channel_for(self, record: Record) -> Channel:
        kind = ChannelKind(record["channel"])
        settings = self.settings
        assert self.http is not None, "channels are made while the outbox job runs"
        if kind is ChannelKind.WEBHOOK:
            secret = secret_for(settings.secret_key, record["recipient"])
            return WebhookChannel(self.http, secret, timeout_s=settings.send_timeout_s)
        if kind is ChannelKind.WHATSAPP:
            return WhatsAppGatewayChannel(
                self.http, settings.whatsapp_gateway_url, settings.whatsapp_gateway_token
            )
        return EmailChannel(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_sender,
            username=settings.smtp_username or None,
            password=settings.smtp_password or None,
            # Credentials never travel in the clear: with a login, STARTTLS is required.
            starttls=True if settings.smtp_username else None,
            timeout_s=settings.send_timeout_s,
        )

    async def settle(self, record: Record, outcome: Outcome) -> None:
        """Write the outcome to the delivery log; the stream reads it back (and sends a
        failed message's causes to the DLQ in the same transaction)."""
        fields = {
            "delivery_id": record["id"],
            "recipient": record["recipient"],
            "channel": record["channel"],
            "kind": record["kind"],
            "attempts": outcome.attempts,
            "causes": [cause["id"] for cause in record["causes"]],
        }
        payload = (
            NotificationDelivered(**fields)
            if outcome.delivered
            else NotificationFailed(**fields, error=outcome.error[:500])
        )
        event = make_event(
            payload,
            event_id=derived_event_id(record["id"], "delivered" if outcome.delivered else "failed"),
            occurred_at=self.clock.now(),
            producer=PRODUCER,
            correlation_id=record["causes"][0]["id"],
            causation_id=record["causes"][0]["id"],
        )
        try:
            await self.outcomes.publish("notifications.deliveries", record["recipient"], event)
        except Exception:  # pending stays pending: the stream hands it over again
            log.exception("could not record the outcome of delivery %s", record["id"])
            return
        self._settled[record["id"]] = (incarnation(record), time.monotonic())

    # -- the process ------------------------------------------------------------------------

    def stop(self) -> None:
        self.route.stop()
        self.outbox.stop()

    def run(self, only: frozenset[str] = JOBS) -> None:
        async def consumer() -> bool:
            return self.outbox.owns_tasks()

        jobs = {"route": self.route.run, "outbox": self.run_outbox}
        run_jobs(SERVICE, self.settings, jobs, only, self.stop, {"consumer": ("outbox", consumer)})
