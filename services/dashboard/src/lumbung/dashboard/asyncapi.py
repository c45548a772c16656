"""The AsyncAPI document of every topic and event (docs/asyncapi.yaml, `make asyncapi`),
as the dashboard serves it: the YAML itself, and a page rendered from it on the server.

The page is plain HTML with its style inline: no script, no font, nothing from elsewhere,
so it reads the same offline. It shows what docs/asyncapi.yaml says and nothing more: one
table of the topics, then each topic's messages with their example and JSON Schema.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

import yaml

try:  # libyaml's parser: ten times faster than the pure Python one
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # pragma: no cover - a PyYAML built without libyaml
    from yaml import SafeLoader  # type: ignore[assignment]

STYLE = """
body { margin: 0; font: 14px/1.45 system-ui, sans-serif; color: #1d2b24; background: #f6f8f6; }
header { padding: 10px 16px; background: #2f6b4f; color: #fff; }
header h1 { margin: 0; font-size: 20px; }
header a { color: #fff; }
main { padding: 8px 16px 32px; max-width: 1200px; }
.intro p { max-width: 80ch; }
table { border-collapse: collapse; background: #fff; font-size: 13px; }
th, td { border: 1px solid #d5ddd8; padding: 4px 8px; text-align: left; vertical-align: top; }
thead th { background: #eef3ef; }
td.num { text-align: right; }
section.topic { margin-top: 24px; }
article { background: #fff; border: 1px solid #d5ddd8; padding: 6px 12px; margin: 8px 0; }
article h4 { margin: 4px 0; font-size: 14px; }
.tag { display: inline-block; padding: 0 6px; border-radius: 3px; font-size: 11px;
       background: #eef3ef; margin-left: 6px; font-weight: 400; }
.tag.written { background: #d8f0dc; }
.muted { color: #5b6b62; }
pre { background: #f3f5f3; padding: 8px; overflow: auto; max-height: 60vh; font-size: 12px; }
summary { cursor: pointer; }
"""


@dataclass(frozen=True)
class Served:
    yaml: bytes
    page: str


class AsyncApiDocument:
    """The document at `path`, read again when the file changes (`make asyncapi`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._served: Served | None = None

    def load(self) -> Served | None:
        """The YAML and its page; None when there is no document at `path`."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        stamp = (stat.st_mtime_ns, stat.st_size)
        if self._served is None or stamp != self._stamp:
            raw = self.path.read_bytes()
            self._served = Served(raw, render_page(yaml.load(raw, Loader=SafeLoader)))
            self._stamp = stamp
        return self._served


def render_page(doc: dict[str, Any]) -> str:
    info = doc.get("info", {})
    channels: dict[str, Any] = doc.get("channels", {})
    written = {
        ref["$ref"]
        for operation in doc.get("operations", {}).values()
        if operation.get("action") == "send"
        for ref in operation.get("messages", [])
    }
    intro = "".join(
        f"<p>{escape(part.strip())}</p>"
        for part in str(info.get("description", "")).split("\n\n")
        if part.strip()
    )
    rows = "".join(_topic_row(doc, name, channel) for name, channel in channels.items())
    topics = "".join(
        _topic_section(doc, name, channel, written) for name, channel in channels.items()
    )
    title = escape(str(info.get("title", "AsyncAPI")))
    return f"""<!doctype html>
<html lang="id">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{STYLE}</style>
</head>
<body>
<header>
<h1>{title}: topik dan event / topics and events</h1>
<span>AsyncAPI {escape(str(doc.get("asyncapi", "")))}, versi / version
{escape(str(info.get("version", "")))} · <a href="/asyncapi.yaml">asyncapi.yaml</a></span>
</header>
<main>
<div class="intro">{intro}</div>
<h2>Topik / Topics</h2>
<table>
<thead><tr><th>Topik / Topic</th><th>Pemilik / Owner</th><th>Kunci / Key</th>
<th>Partisi / Partitions</th><th>Retensi / Retention</th><th>Pesan / Messages</th></tr></thead>
<tbody>{rows}</tbody>
</table>
<h2>Pesan per topik / Messages by topic</h2>
{topics}
</main>
</body>
</html>
"""


def _topic_row(doc: dict[str, Any], name: str, channel: dict[str, Any]) -> str:
    kafka = channel.get("bindings", {}).get("kafka", {})
    versions: dict[str, list[str]] = {}
    for message_id, ref in channel.get("messages", {}).items():
        event = str(_resolve(doc, ref).get("name", message_id))
        label = message_id.removeprefix(f"{event}.") if message_id != event else message_id
        versions.setdefault(event, []).append(
            f'<a href="#{_anchor("msg", message_id)}">{escape(label)}</a>'
        )
    messages = "<br>".join(f"{escape(e)} {' '.join(links)}" for e, links in versions.items())
    return (
        f'<tr><th><a href="#{_anchor("topic", name)}">{escape(name)}</a></th>'
        f"<td>{escape(str(channel.get('x-owner', '—')))}</td>"
        f"<td>{escape(str(channel.get('x-key', '—')))}</td>"
        f'<td class="num">{escape(str(kafka.get("partitions", "—")))}</td>'
        f"<td>{escape(str(channel.get('x-retention', '—')))}</td>"
        f"<td>{messages or '—'}</td></tr>"
    )


def _topic_section(
    doc: dict[str, Any], name: str, channel: dict[str, Any], written: set[str]
) -> str:
    articles = "".join(
        _message(
            doc,
            message_id,
            _resolve(doc, ref),
            f"#/channels/{name}/messages/{message_id}" in written,
        )
        for message_id, ref in channel.get("messages", {}).items()
    )
    none = '<p class="muted">Tanpa event terdaftar / no registered event type.</p>'
    return (
        f'<section class="topic" id="{_anchor("topic", name)}">'
        f"<h3>{escape(name)}</h3><p>{escape(str(channel.get('description', '')))}</p>"
        f"{articles or none}</section>"
    )


def _message(doc: dict[str, Any], message_id: str, message: dict[str, Any], written: bool) -> str:
    tag = (
        '<span class="tag written">ditulis / written now</span>'
        if written
        else '<span class="tag">dibaca saja / read only</span>'
    )
    # The example of the version written now is open; older versions' are a click away.
    examples = "".join(
        f"<details{' open' if written else ''}>"
        f"<summary>Contoh / Example: {escape(str(e.get('name', '')))}</summary>"
        f"<pre>{_json(e.get('payload'))}</pre></details>"
        for e in message.get("examples", [])
    )
    schema = _resolve(doc, message.get("payload", {}))
    return (
        f'<article id="{_anchor("msg", message_id)}">'
        f"<h4>{escape(str(message.get('title', message_id)))}{tag}</h4>"
        f"<p>{escape(str(message.get('summary', '')))}</p>"
        f'<p class="muted">{escape(str(message.get("description", "")))}</p>'
        f"{examples}"
        f"<details><summary>Skema JSON / JSON Schema</summary><pre>{_json(schema)}</pre></details>"
        "</article>"
    )


def _resolve(doc: dict[str, Any], node: Any) -> Any:
    """`node`, or what its local `$ref` points at."""
    ref = node.get("$ref") if isinstance(node, dict) else None
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return node
    target: Any = doc
    for part in ref[2:].split("/"):
        target = target[part.replace("~1", "/").replace("~0", "~")]
    return target


def _anchor(kind: str, name: str) -> str:
    return escape(f"{kind}-{name}")


def _json(value: Any) -> str:
    return escape(json.dumps(value, indent=2, ensure_ascii=False))
