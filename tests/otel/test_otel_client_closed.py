"""A response the client stopped reading on purpose (``trace run --read-for``) carries
``tracer.client_closed`` on its SERVER span, live (``trace run --otlp``) and from the file
(``trace export --to otlp-json``) alike; the server's word that its client went (hypercorn's
``cancelled`` for a reset HTTP/2 stream) is no ``error.type``, while an app that raised after
its client left still has one. The run's header records how the client read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tracer import events as K
from tracer.cli import main
from tracer.otel.testing import OtlpHttpReceiver
from tracer.recording import load

pytestmark = pytest.mark.timeout(120)

REAL_APPS = str(Path(__file__).resolve().parent.parent / "servers" / "real")
"""Where ``real_left_streams`` lives: responses only the client ends."""


def _value(any_value: Any) -> Any:
    """An OTLP ``AnyValue`` protobuf as a Python value."""
    return getattr(any_value, any_value.WhichOneof("value"))


def _live_attributes(spans: list[Any]) -> dict[str, dict[str, Any]]:
    """``url.path`` -> the attributes of the SERVER span of that path (one each)."""
    found: dict[str, dict[str, Any]] = {}
    for span in spans:
        if span.kind == span.SPAN_KIND_SERVER:
            attrs = {kv.key: _value(kv.value) for kv in span.attributes}
            if attrs.get("url.path") in ("/", "/raise"):
                found[attrs["url.path"]] = attrs
    return found


def _file_attributes(path: Path) -> dict[str, dict[str, Any]]:
    """As ``_live_attributes``, from an ``--to otlp-json`` file."""
    found: dict[str, dict[str, Any]] = {}
    for resource in json.loads(path.read_text())["resourceSpans"]:
        for scope in resource["scopeSpans"]:
            for span in scope["spans"]:
                if span.get("kind") != 2:
                    continue
                attrs = {kv["key"]: next(iter(kv["value"].values())) for kv in span["attributes"]}
                if attrs.get("url.path") in ("/", "/raise"):
                    found[attrs["url.path"]] = attrs
    return found


def _told(attrs: dict[str, Any]) -> tuple[Any, Any]:
    return attrs.get("tracer.client_closed"), attrs.get("error.type")


def test_streams_left_on_purpose_say_so_live_and_in_the_file(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """hypercorn --http2, the client cancelling each stream 0.2 s after its first byte: on
    ``/`` the app waits until hypercorn's stop cancels it (its end says ``cancelled``), on
    ``/raise`` it raises once its client left."""
    pytest.importorskip("h2")
    pytest.importorskip("hypercorn")
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_PROTOCOL", raising=False)
    record = tmp_path / "run.jsonl"
    with OtlpHttpReceiver() as receiver:
        code = main(
            ["run", "real_left_streams:asgi_left", "--server", "hypercorn", "--http2",
             "--app-dir", REAL_APPS, "-c", "1", "-n", "2", "--path", "/", "--path", "/raise",
             "--read-for", "0.2s", "--timeout", "10s", "--json", "--record", str(record),
             "--otlp", "--otlp-endpoint", receiver.endpoint]
        )  # fmt: skip
        live = _live_attributes(receiver.spans())
    assert code == 0
    recording = load(record)
    # What the recording says, so the spans are checked against a run that did as asked.
    sent = {e.req for e in recording.events if e.kind == K.CLIENT_SEND}
    ends = {e.req: e.data for e in recording.events if e.kind == K.REQUEST_END and e.req in sent}
    assert sorted(str(d.get("error")) for d in ends.values()) == ["ValueError", "cancelled"]
    assert recording.header["load"]["read_for_s"] == 0.2
    assert "read_bytes" not in recording.header["load"]
    assert "read_rate" not in recording.header["load"]

    expected = {"/": ("read-for", None), "/raise": ("read-for", "ValueError")}
    assert {path: _told(attrs) for path, attrs in live.items()} == expected

    exported = tmp_path / "run.otlp.json"
    done = subprocess.run(
        [sys.executable, "-m", "tracer", "export", str(record), "--to", "otlp-json",
         "-o", str(exported)],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert {path: _told(attrs) for path, attrs in _file_attributes(exported).items()} == expected


def test_a_run_read_in_full_has_no_read_fields_and_no_client_closed(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """uvicorn, responses read to their end: no ``tracer.client_closed`` on any span, no
    ``read_*`` key in the header's ``load``."""
    pytest.importorskip("uvicorn")
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_PROTOCOL", raising=False)
    record = tmp_path / "run.jsonl"
    with OtlpHttpReceiver() as receiver:
        code = main(
            ["run", "sample_apps.hello:asgi_app", "--server", "uvicorn", "-n", "2", "-c", "1",
             "--json", "--record", str(record), "--otlp", "--otlp-endpoint", receiver.endpoint]
        )  # fmt: skip
        spans = receiver.spans()
    assert code == 0
    servers = [s for s in spans if s.kind == s.SPAN_KIND_SERVER and s.name == "GET"]
    assert len(servers) == 2
    assert all("tracer.client_closed" not in {kv.key for kv in s.attributes} for s in servers)
    load_header = load(record).header["load"]
    assert not {"read_for_s", "read_bytes", "read_rate"} & load_header.keys()


def test_read_bytes_and_read_rate_are_in_the_header_as_given(tmp_path: Path) -> None:
    """uvicorn, ``--read-bytes 50 --read-rate 100000`` over HTTP/1.1: both in ``load`` as
    given, and no ``read_for_s``."""
    pytest.importorskip("uvicorn")
    record = tmp_path / "run.jsonl"
    code = main(
        ["run", "real_left_streams:asgi_left", "--server", "uvicorn", "--app-dir", REAL_APPS,
         "-c", "1", "-n", "1", "--read-bytes", "50", "--read-rate", "100000",
         "--timeout", "10s", "--json", "--record", str(record)]
    )  # fmt: skip
    assert code == 0
    load_header = load(record).header["load"]
    assert (load_header["read_bytes"], load_header["read_rate"]) == (50, 100000)
    assert "read_for_s" not in load_header
