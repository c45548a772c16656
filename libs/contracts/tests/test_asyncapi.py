"""docs/asyncapi.yaml is what the registry generates, says what the registry says, and is
valid AsyncAPI by the AsyncAPI CLI's own `validate` (installed by `make install`)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from lumbung.contracts import DEFAULT, EventSpec
from lumbung.contracts.asyncapi import (
    DOC_PATH,
    REPOSITORY,
    document,
    message_id,
    render,
    retention,
)
from lumbung.contracts.examples import EXAMPLES, example_event
from lumbung.contracts.schemas import schema_path

REGENERATE = "run `make asyncapi` and commit docs/asyncapi.yaml"
CLI = REPOSITORY / ".tools" / "npm" / "asyncapi"


@pytest.fixture(scope="module")
def committed() -> dict[str, Any]:
    text = DOC_PATH.read_text(encoding="utf-8")
    loaded: dict[str, Any] = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return loaded


def frozen(spec: EventSpec) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(schema_path(spec).read_text(encoding="utf-8"))
    return loaded


def test_the_committed_document_is_what_the_registry_generates() -> None:
    assert DOC_PATH.read_text(encoding="utf-8") == render(document()), REGENERATE


def test_the_yaml_reads_back_as_the_generated_document(committed: dict[str, Any]) -> None:
    assert committed == document()


def test_every_topic_is_a_channel_with_its_owner_key_partitions_and_retention(
    committed: dict[str, Any],
) -> None:
    channels = committed["channels"]

    assert list(channels) == [t.name for t in DEFAULT.topics]
    for topic in DEFAULT.topics:
        channel = channels[topic.name]
        kafka = channel["bindings"]["kafka"]
        assert channel["address"] == topic.name
        assert (channel["x-owner"], channel["x-key"]) == (topic.writer.value, topic.key)
        assert kafka["partitions"] == topic.partitions
        assert kafka["topicConfiguration"] == {
            k: [v] if k == "cleanup.policy" else int(v) for k, v in topic.config().items()
        }
        assert channel["x-retention"] == retention(topic)
        assert set(channel["messages"]) == {message_id(e) for e in DEFAULT.events_on(topic.name)}


def test_each_topic_is_written_by_its_owner_with_the_newest_version_of_each_event(
    committed: dict[str, Any],
) -> None:
    for topic in DEFAULT.topics:
        operation = committed["operations"][f"{topic.name}.write"]
        newest: dict[str, int] = {}
        for spec in DEFAULT.events_on(topic.name):
            newest[spec.event_type] = max(newest.get(spec.event_type, 0), spec.schema_version)

        assert operation["action"] == "send"
        assert operation["tags"] == [{"name": topic.writer.value}]
        assert operation["channel"] == {"$ref": f"#/channels/{topic.name}"}
        assert [m["$ref"].rsplit("/", 1)[-1] for m in operation["messages"]] == [
            f"{event_type}.v{v}" for event_type, v in newest.items()
        ]


@pytest.mark.parametrize("spec", DEFAULT.events, ids=message_id)
def test_every_message_carries_its_frozen_schema_and_an_example_it_accepts(
    spec: EventSpec, committed: dict[str, Any]
) -> None:
    name = message_id(spec)
    message = committed["components"]["messages"][name]
    schema = committed["components"]["schemas"][name]
    # The document's references point into the document; the frozen file's into itself.
    local = json.loads(json.dumps(schema).replace(f'"#/components/schemas/{name}/', '"#/'))

    assert message["payload"] == {"$ref": f"#/components/schemas/{name}"}
    assert local == frozen(spec)
    assert message["bindings"]["kafka"]["key"]["description"] == DEFAULT.spec(spec.topic).key
    [example] = message["examples"]
    assert example["payload"] == example_event(spec)
    Draft202012Validator(frozen(spec)).validate(example["payload"])
    assert DEFAULT.parse(example["payload"]).event_type == spec.event_type


def test_there_is_an_example_of_every_event_type_and_of_nothing_else() -> None:
    assert set(EXAMPLES) == {spec.event_type for spec in DEFAULT.events}


def test_the_asyncapi_cli_finds_the_document_valid() -> None:
    assert CLI.exists(), f"{CLI} is missing: `make install` installs the AsyncAPI CLI"

    run = subprocess.run(
        [str(CLI), "validate", str(DOC_PATH), "--fail-severity", "warn"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert run.returncode == 0, run.stdout + run.stderr
    assert "is valid" in run.stdout, run.stdout


def test_the_asyncapi_cli_refuses_a_document_that_breaks_the_specification(tmp_path: Path) -> None:
    broken = document()
    broken["operations"]["pos.sales.write"]["action"] = "publish"
    path = tmp_path / "broken.yaml"
    path.write_text(render(broken), encoding="utf-8")

    run = subprocess.run(
        [str(CLI), "validate", str(path), "--fail-severity", "warn"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert run.returncode != 0, run.stdout
    assert "action" in run.stdout + run.stderr
