"""A multi-process server's spans, decoded from the OTLP wire: one resource per process."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest

import tracer
from tracer import events as K
from tracer.cli import main
from tracer.otel.testing import OtlpHttpReceiver, received_spans

pytestmark = pytest.mark.timeout(60)


def _value(value: Any) -> Any:
    return getattr(value, value.WhichOneof("value"))


def _attributes(owner: Any) -> dict[str, Any]:
    return {a.key: _value(a.value) for a in owner.attributes}


def _by_process(receiver: OtlpHttpReceiver) -> dict[int, list[Any]]:
    """pid -> the spans received under the resource with that ``process.pid``; every resource
    of every export request names its process and the service."""
    groups: dict[int, list[Any]] = defaultdict(list)
    for request in receiver.requests:
        pids = [_attributes(rs.resource).get("process.pid") for rs in request.resource_spans]
        assert None not in pids, "a resource without process.pid"
        assert len(pids) == len(set(pids)), "one process's spans under two resources"
    for resource_spans, span in received_spans(receiver.requests):
        resource = _attributes(resource_spans.resource)
        assert resource["service.name"] == "sample_apps.io_bound:wsgi_app"
        groups[resource["process.pid"]].append(span)
    return groups


def _check(groups: dict[int, list[Any]], serving: set[int], requests: int) -> None:
    """Each process's request spans are under its resource, with their children."""
    assert set(groups) == serving
    servers = 0
    for pid, spans in groups.items():
        ids = {span.span_id for span in spans}
        for span in spans:
            if span.kind == span.SPAN_KIND_SERVER:
                servers += 1
                assert _attributes(span)["process.pid"] == pid
            else:  # queued, protocol calls: beside their request span
                assert span.parent_span_id in ids
    assert servers == requests


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: Any) -> tuple[str, set[int]]:
    """A recording of ``--server processes --workers 2`` under load from two clients, and the
    pids of the worker processes that served its requests."""
    record = str(tmp_path_factory.mktemp("processes") / "run.jsonl")
    code = main(
        ["run", "sample_apps.io_bound:wsgi_app", "--server", "processes", "--workers", "2",
         "-n", "6", "-c", "2", "--path", "/?ms=60", "--json", "--record", record]
    )  # fmt: skip
    assert code == 0
    starts = [e for e in tracer.load(record).events if e.kind == K.REQUEST_START]
    assert len(starts) == 6
    return record, {e.pid for e in starts}


def test_export_of_a_two_worker_recording_has_a_resource_per_process(
    two_workers: tuple[str, set[int]], monkeypatch: Any, capsys: Any
) -> None:
    """``trace export --to otlp --otel-detail spans``: each worker's spans (its request spans,
    their queued and protocol-call children) under a resource with its ``process.pid``."""
    record, serving = two_workers
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_PROTOCOL", raising=False)
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    monkeypatch.delenv("OTEL_RESOURCE_ATTRIBUTES", raising=False)
    with OtlpHttpReceiver() as receiver:
        argv = ["export", record, "--to", "otlp", "--otel-detail", "spans"]
        assert main([*argv, "--otlp-endpoint", receiver.endpoint]) == 0
        groups = _by_process(receiver)
    _check(groups, serving, 6)
    names = {span.name for spans in groups.values() for span in spans}
    assert {"GET", "queued", "wsgi.start_response", "wsgi.body"} <= names


def test_a_live_run_against_two_workers_has_a_resource_per_process(
    tmp_path: Any, monkeypatch: Any
) -> None:
    """``trace run --server processes --workers 2 --otlp``: the spans arrive grouped by the
    worker that served them."""
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_PROTOCOL", raising=False)
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    monkeypatch.delenv("OTEL_RESOURCE_ATTRIBUTES", raising=False)
    record = str(tmp_path / "run.jsonl")
    with OtlpHttpReceiver() as receiver:
        code = main(
            ["run", "sample_apps.io_bound:wsgi_app", "--server", "processes", "--workers", "2",
             "-n", "4", "-c", "2", "--path", "/?ms=60", "--json", "--record", record,
             "--otlp", "--otlp-endpoint", receiver.endpoint]
        )  # fmt: skip
        groups = _by_process(receiver)
    assert code == 0
    serving = {e.pid for e in tracer.load(record).events if e.kind == K.REQUEST_START}
    _check(groups, serving, 4)


def test_otlp_json_gives_each_process_its_own_instance_id(
    two_workers: tuple[str, set[int]], tmp_path: Any, monkeypatch: Any
) -> None:
    """``--to otlp-json``: one ``service.instance.id`` per process (derived, so the same file
    exports the same bytes), never one id for two processes."""
    import json

    record, serving = two_workers
    monkeypatch.delenv("OTEL_RESOURCE_ATTRIBUTES", raising=False)
    out = [str(tmp_path / "a.json"), str(tmp_path / "b.json")]
    for path in out:
        assert main(["export", record, "--to", "otlp-json", "-o", path]) == 0
    with open(out[0], encoding="utf-8") as a, open(out[1], encoding="utf-8") as b:
        text = a.read()
        assert text == b.read()
    instances: dict[int, set[str]] = defaultdict(set)
    for line in text.splitlines():
        for resource_spans in json.loads(line)["resourceSpans"]:
            attrs = {
                a["key"]: next(iter(a["value"].values()))
                for a in resource_spans["resource"]["attributes"]
            }
            instances[int(attrs["process.pid"])].add(attrs["service.instance.id"])
    assert set(instances) == serving
    assert all(len(ids) == 1 for ids in instances.values())
    assert len({next(iter(ids)) for ids in instances.values()}) == len(serving)
