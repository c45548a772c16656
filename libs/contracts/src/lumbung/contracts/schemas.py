"""JSON Schemas of every event, generated from the models and committed per version.

`python -m lumbung.contracts.schemas write` writes drafts and new versions; a released
version's file is frozen and never rewritten. `compatibility_problems` says whether the
current model of a released version can still be read by a consumer built on the frozen
file, and can still read the events already in the log (replays keep everything).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from lumbung.contracts.cloudevents import dataschema
from lumbung.contracts.registry import DEFAULT, EventSpec, Registry

SCHEMA_DIR = Path(__file__).resolve().parents[3] / "schemas"
_CONSTRAINTS = (
    "type",
    "format",
    "const",
    "enum",
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
)


def event_schema(spec: EventSpec) -> dict[str, Any]:
    schema = spec.envelope_model().model_json_schema()
    schema["title"] = spec.event_type
    schema["$id"] = dataschema(spec.event_type, spec.schema_version)
    props = schema["properties"]
    props["event_type"] = {"const": spec.event_type, "type": "string"}
    props["schema_version"] = {"const": spec.schema_version, "type": "integer"}
    return schema


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def schema_path(spec: EventSpec, root: Path = SCHEMA_DIR) -> Path:
    return root / spec.event_type / f"v{spec.schema_version}.json"


def write_schemas(registry: Registry = DEFAULT, root: Path = SCHEMA_DIR) -> list[Path]:
    written = []
    for spec in registry.events:
        path = schema_path(spec, root)
        if spec.released and path.exists():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        text = render(event_schema(spec))
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


def _resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = root.get("$defs", {})[name]
    return node


def compatibility_problems(frozen: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Why events of `current` would break a consumer of `frozen` or the other way round."""
    problems: list[str] = []
    _compare(frozen, current, frozen, current, "", problems)
    return problems


def _compare(
    old: dict[str, Any],
    new: dict[str, Any],
    old_root: dict[str, Any],
    new_root: dict[str, Any],
    path: str,
    problems: list[str],
) -> None:
    old, new = _resolve(old, old_root), _resolve(new, new_root)
    where = path or "(event)"
    for key in _CONSTRAINTS:
        if old.get(key) != new.get(key):
            problems.append(f"{where}: {key} changed from {old.get(key)!r} to {new.get(key)!r}")
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    for name, old_prop in old_props.items():
        if name not in new_props:
            problems.append(f"{path}{name}: removed")
        else:
            _compare(old_prop, new_props[name], old_root, new_root, f"{path}{name}.", problems)
    if old.get("additionalProperties") is False:
        for name in new_props.keys() - old_props.keys():
            problems.append(f"{path}{name}: added where the frozen schema allows no other field")
    old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
    for name in sorted(old_required - new_required):
        problems.append(f"{path}{name}: no longer required, so old consumers may miss it")
    for name in sorted(new_required - old_required):
        problems.append(f"{path}{name}: newly required, so events already in the log fail")
    if "items" in old or "items" in new:
        _compare(
            old.get("items", {}), new.get("items", {}), old_root, new_root, f"{path}[].", problems
        )
    old_any, new_any = old.get("anyOf", []), new.get("anyOf", [])
    if len(old_any) != len(new_any):
        problems.append(f"{where}: the set of accepted types changed")
    else:
        for i, (o, n) in enumerate(zip(old_any, new_any, strict=True)):
            _compare(o, n, old_root, new_root, f"{path}<{i}>.", problems)


def main(argv: list[str]) -> int:
    if argv[:1] != ["write"]:
        print("usage: python -m lumbung.contracts.schemas write", file=sys.stderr)
        return 2
    for path in write_schemas():
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
