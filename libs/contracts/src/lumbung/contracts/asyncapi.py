"""The AsyncAPI 3 document of every topic and event, generated from the registry.

`python -m lumbung.contracts.asyncapi write` (`make asyncapi`) writes docs/asyncapi.yaml:
one channel per registry topic (owner, key, partitions, retention), one message per event
type and schema version, carrying its committed JSON Schema and an example
(`lumbung.contracts.examples`), and one send operation per topic, by its writing service.
The tests regenerate it and compare, and validate it with the AsyncAPI CLI.

A committed schema is copied as it is frozen, except its local references: `#/$defs/X`
becomes `#/components/schemas/<message>/$defs/X`, since an AsyncAPI parser resolves a
reference from the document's root, not from the schema's.
"""

from __future__ import annotations

import json
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import orjson
import yaml

from lumbung.contracts import cloudevents
from lumbung.contracts.examples import example_event
from lumbung.contracts.registry import DAY_MS, DEFAULT, Cleanup, EventSpec, Registry, TopicSpec
from lumbung.contracts.schemas import SCHEMA_DIR, schema_path

ASYNCAPI_VERSION = "3.0.0"
KAFKA_BINDING_VERSION = "0.5.0"
REPOSITORY = SCHEMA_DIR.parents[2]
DOC_PATH = REPOSITORY / "docs" / "asyncapi.yaml"
HEADERS = "CloudEventsHeaders"
HEADER = (
    "# Generated from the topic registry and the committed JSON Schemas by `make asyncapi`\n"
    "# (lumbung.contracts.asyncapi); edit those, not this file.\n"
)
DESCRIPTION = """\
Every Kafka topic of Lumbung and every event that travels on it, generated from the topic
registry of the contracts library (libs/contracts/src/lumbung/contracts/registry.py).

Each topic has one writing service (its send operation), a key, a partition count and a
cleanup policy. Every event is JSON in one envelope: `event_id` (the idempotency key
downstream), `event_type`, `schema_version`, `occurred_at` with its UTC offset, `producer`,
`correlation_id`, `causation_id`, and the payload in `data`. A message here is one event
type at one schema version, with its committed JSON Schema: a released version's schema is
frozen, and a breaking change is a new version that consumers read side by side, so a topic
lists every version its log may hold, and its send operation the versions written now.

Every event also carries the CloudEvents Kafka protocol binding's headers in binary mode,
mapped from the envelope (`ce_id` = event_id, `ce_type` = event_type, `ce_source` =
`urn:lumbung:<producer>`, `ce_time` = occurred_at, `ce_subject` = the record key, ...): any
CloudEvents SDK reads the events as they are. Dead-letter topics hold bad input as it came.

Topic names are as a deployment without a prefix sees them; a registry prefix (each test
has one) is put before every name, as `<prefix>.pos.sales`.
"""


def message_id(spec: EventSpec) -> str:
    return f"{spec.event_type}.v{spec.schema_version}"


def document(registry: Registry = DEFAULT, schema_root: Path = SCHEMA_DIR) -> dict[str, Any]:
    """The AsyncAPI document of `registry`, with the committed schemas under `schema_root`."""
    newest = _newest(registry.events)
    written = {message_id(e) for e in newest}
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "Lumbung events",
            "version": version("lumbung-contracts"),
            "description": DESCRIPTION,
        },
        "defaultContentType": "application/json",
        "servers": {
            "local": {
                "host": "127.0.0.1:9092",
                "protocol": "kafka",
                "description": "The broker `make up` starts (docker compose: kafka:9092).",
            }
        },
        "channels": {t.name: _channel(t, registry) for t in registry.topics},
        "operations": {
            f"{t.name}.write": _operation(t, [e for e in newest if e.topic == t.name])
            for t in registry.topics
        },
        "components": {
            "schemas": {
                HEADERS: _headers(),
                **{
                    message_id(e): _anchored(_frozen(e, schema_root), _schema_ref(e))
                    for e in registry.events
                },
            },
            "messages": {
                message_id(e): _message(e, registry, message_id(e) in written, schema_root)
                for e in registry.events
            },
        },
    }


def render(doc: dict[str, Any]) -> str:
    return HEADER + yaml.dump(
        doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100, indent=2
    )


def retention(topic: TopicSpec) -> str:
    if topic.cleanup is Cleanup.COMPACT:
        return "compacted: the newest of every key is kept"
    if topic.retention_ms < 0:
        return "kept forever"
    days = topic.retention_ms / DAY_MS
    return f"kept {days:g} days"


def _newest(events: tuple[EventSpec, ...]) -> list[EventSpec]:
    """The version of each event type that producers write: its newest."""
    newest: dict[str, EventSpec] = {}
    for spec in events:
        kept = newest.get(spec.event_type)
        if kept is None or spec.schema_version > kept.schema_version:
            newest[spec.event_type] = spec
    return list(newest.values())


def _channel(topic: TopicSpec, registry: Registry) -> dict[str, Any]:
    config: dict[str, Any] = {"cleanup.policy": [topic.cleanup.value]}
    if "retention.ms" in topic.config():
        config["retention.ms"] = topic.retention_ms
    events = registry.events_on(topic.name)
    carried = "" if events else " It carries no event type of its own in the registry."
    return {
        "address": topic.name,
        "title": topic.name,
        "description": (
            f"{topic.description} Written by the {topic.writer.value} service, keyed by "
            f"{topic.key}, {topic.partitions} partition{'s' if topic.partitions > 1 else ''}, "
            f"{retention(topic)}.{carried}"
        ),
        "messages": {
            message_id(e): {"$ref": f"#/components/messages/{message_id(e)}"} for e in events
        },
        "bindings": {
            "kafka": {
                "partitions": topic.partitions,
                "topicConfiguration": config,
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
        "x-owner": topic.writer.value,
        "x-key": topic.key,
        "x-retention": retention(topic),
    }


def _operation(topic: TopicSpec, written: list[EventSpec]) -> dict[str, Any]:
    return {
        "action": "send",
        "channel": {"$ref": f"#/channels/{topic.name}"},
        "title": f"{topic.writer.value} writes {topic.name}",
        "summary": f"{topic.name} is written by its owner, the {topic.writer.value} service.",
        "tags": [{"name": topic.writer.value}],
        "messages": [
            {"$ref": f"#/channels/{topic.name}/messages/{message_id(e)}"} for e in written
        ],
    }


def _message(
    spec: EventSpec, registry: Registry, newest: bool, schema_root: Path
) -> dict[str, Any]:
    frozen = _frozen(spec, schema_root)
    data = frozen["properties"]["data"]
    if "$ref" in data:
        data = frozen["$defs"][data["$ref"].rsplit("/", 1)[-1]]
    state = "frozen" if spec.released else "a draft, not yet released"
    written = "producers write this version" if newest else "read beside the newer version"
    path = schema_path(spec, schema_root)
    return {
        "name": spec.event_type,
        "title": f"{spec.event_type} v{spec.schema_version}",
        "summary": data.get("description", spec.event_type),
        "description": (
            f"Schema version {spec.schema_version} ({state}; {written}), "
            f"on {spec.topic}. Its JSON Schema: {_shown(path)}."
        ),
        "contentType": "application/json",
        "headers": {"$ref": f"#/components/schemas/{HEADERS}"},
        "payload": {"$ref": _schema_ref(spec)},
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": registry.spec(spec.topic).key},
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
        "examples": [
            {
                "name": f"{spec.event_type.split('.')[-1]}V{spec.schema_version}",
                "summary": f"An example {spec.event_type} v{spec.schema_version}.",
                "headers": {
                    name: value.decode()
                    for name, value in cloudevents.headers_for(
                        orjson.dumps(example_event(spec)), None
                    )
                },
                "payload": example_event(spec),
            }
        ],
        "x-released": spec.released,
    }


def _headers() -> dict[str, Any]:
    """The CloudEvents Kafka binding's headers (binary mode) every event carries."""

    def text(description: str, **more: Any) -> dict[str, Any]:
        return {"type": "string", "description": description, **more}

    return {
        "type": "object",
        "description": (
            "The CloudEvents Kafka protocol binding, binary mode, mapped from the envelope "
            "(lumbung.contracts.cloudevents). No Lumbung consumer needs them."
        ),
        "properties": {
            "ce_specversion": text("CloudEvents 1.0.", const="1.0"),
            "ce_id": text("The envelope's event_id.", format="uuid"),
            "ce_source": text("urn:lumbung: and the envelope's producer."),
            "ce_type": text("The envelope's event_type: the message's name."),
            "ce_time": text("The envelope's occurred_at.", format="date-time"),
            "ce_subject": text("The record key (the channel's key: an outlet, an order...)."),
            "ce_dataschema": text(
                "The $id of the message's JSON Schema: lumbung:<event_type>/v<version>."
            ),
            "ce_correlationid": text("The envelope's correlation_id (an extension)."),
            "ce_causationid": text("The envelope's causation_id, when set (an extension)."),
            "content-type": text("The value's media type.", const="application/json"),
        },
        "required": [
            "ce_specversion",
            "ce_id",
            "ce_source",
            "ce_type",
            "ce_time",
            "ce_dataschema",
            "ce_correlationid",
            "content-type",
        ],
    }


def _frozen(spec: EventSpec, root: Path) -> dict[str, Any]:
    path = schema_path(spec, root)
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `make schemas` first")
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


def _shown(path: Path) -> str:
    return str(path.relative_to(REPOSITORY)) if path.is_relative_to(REPOSITORY) else path.name


def _schema_ref(spec: EventSpec) -> str:
    return f"#/components/schemas/{message_id(spec)}"


def _anchored(node: Any, at: str) -> Any:
    """`node` with its local references (`#/…`) made to point below `at`."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#"):
            node = {**node, "$ref": at + ref[1:]}
        return {k: v if k == "$ref" else _anchored(v, at) for k, v in node.items()}
    if isinstance(node, list):
        return [_anchored(v, at) for v in node]
    return node


class _Dumper(yaml.SafeDumper):
    """Block style, no anchors (a shared dict is written out again), and text with line
    breaks as a `|` block."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def main(argv: list[str]) -> int:
    if argv[:1] != ["write"]:
        print("usage: python -m lumbung.contracts.asyncapi write [PATH]", file=sys.stderr)
        return 2
    target = Path(argv[1]) if len(argv) > 1 else DOC_PATH
    target.write_text(render(document()), encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
