"""Structural checks of a Chrome trace JSON object, as ui.perfetto.dev needs it."""

from __future__ import annotations

from collections import defaultdict
from typing import Any


def thread_slices(trace: dict[str, Any]) -> dict[tuple[int, int], list[tuple[float, float, str]]]:
    """``(pid, tid) -> [(begin, end, name)]`` from B/E pairs, asserting they nest per thread."""
    stacks: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)
    last_ts: dict[tuple[int, int], float] = {}
    slices: dict[tuple[int, int], list[tuple[float, float, str]]] = defaultdict(list)
    for event in trace["traceEvents"]:
        if event["ph"] not in "BE":
            continue
        key = (event["pid"], event["tid"])
        assert event["ts"] >= last_ts.get(key, float("-inf")), f"time goes back on {key}"
        last_ts[key] = event["ts"]
        if event["ph"] == "B":
            stacks[key].append(event)
        else:
            assert stacks[key], f"E without B on {key}: {event}"
            begin = stacks[key].pop()
            assert begin["name"] == event["name"], (begin, event)
            slices[key].append((begin["ts"], event["ts"], begin["name"]))
    assert all(not stack for stack in stacks.values()), "unclosed B slices"
    return slices


def async_slices(
    trace: dict[str, Any],
) -> dict[tuple[str, Any], list[tuple[float, float, str, int]]]:
    """``(cat, id) -> [(begin, end, name, depth)]``, asserting b/e pairs match and nest."""
    stacks: dict[tuple[str, Any], list[dict[str, Any]]] = defaultdict(list)
    slices: dict[tuple[str, Any], list[tuple[float, float, str, int]]] = defaultdict(list)
    for event in trace["traceEvents"]:
        if event["ph"] not in "ben":
            continue
        key = (event["cat"], event["id"])
        assert "pid" in event
        if event["ph"] == "b":
            if stacks[key]:
                assert event["ts"] >= stacks[key][-1]["ts"]
            stacks[key].append(event)
        elif event["ph"] == "e":
            assert stacks[key], f"e without b for {key}"
            begin = stacks[key].pop()
            assert begin["name"] == event["name"] and event["ts"] >= begin["ts"], (begin, event)
            slices[key].append((begin["ts"], event["ts"], begin["name"], len(stacks[key])))
    assert all(not stack for stack in stacks.values()), "unclosed async slices"
    return slices


ID_LIMIT = 2**31
"""Perfetto reads ``pid`` and ``tid`` as unsigned 32-bit numbers (and a ``tid`` it cannot read
as the pid, every thread on one track); others read them as signed: ids stay below this."""


def check_chrome_trace(trace: dict[str, Any]) -> None:
    """Ids fit in 31 bits; metadata names every process/thread used; slices nest; flows start
    and end in slices."""
    events = trace["traceEvents"]
    assert trace["displayTimeUnit"] == "ms"
    for event in events:
        assert all(0 <= event[key] < ID_LIMIT for key in ("pid", "tid") if key in event), event
    processes = {e["pid"] for e in events if e["ph"] == "M" and e["name"] == "process_name"}
    threads = {
        (e["pid"], e["tid"]) for e in events if e["ph"] == "M" and e["name"] == "thread_name"
    }
    assert all(e["args"]["name"] for e in events if e["ph"] == "M" and "name" in e["args"])
    for event in events:
        assert event["pid"] in processes, event
        if event["ph"] in "BEisf" and event.get("s") != "g":  # a global instant has no thread
            assert (event["pid"], event["tid"]) in threads, event
    slices = thread_slices(trace)
    async_slices(trace)
    flows: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for event in events:
        if event["ph"] in "sf":
            flows[event["id"]].append(event)
            on = slices[(event["pid"], event["tid"])]
            assert any(b <= event["ts"] <= e for b, e, _ in on), (
                f"flow end outside a slice: {event}"
            )
    for ends in flows.values():
        assert sorted(e["ph"] for e in ends) == ["f", "s"]
    for event in events:
        if event["ph"] == "C":
            assert all(value >= 0 for value in event["args"].values())
