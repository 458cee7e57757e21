"""Spans made to fit OTLP before a sink gets them: what a recording may hold, OTLP cannot.

A recording read from elsewhere may carry any JSON number where a time, a request id or a
status belongs (the loader accepts integers of any size). OTLP's times are unsigned 64-bit
nanoseconds, its integer attributes signed 64-bit: the OpenTelemetry encoder raises on
anything else, losing the request (or the whole export) with a traceback, and a live export
would then blame the collector. ``CleanSink`` clamps span and event times into
``0..2**64-1``, writes integers beyond 64 bits (and values of no attribute type) as strings,
and drops a ``pid`` that is no process id; each kind of repair is said once, as a warning
(``WARNINGS``). Imports nothing of ours at run time.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tracer.otel.spec import Key, SpanSink, SpanSpec

__all__ = ["CleanSink", "TIME_MAX", "INT_MIN", "INT_MAX", "WARNINGS"]

WARNINGS = "tracer.otel.spans"
"""The logger of what making spans of a recording warns of (values repaired, a request
skipped): one of those whose warnings the command line prints as ``trace: warning:`` lines,
as it prints the reader's (``tracer.cli``); an application's logging gets them under
``tracer``, as the rest of ours."""

log = logging.getLogger(WARNINGS)

TIME_MAX = 2**64 - 1
"""The latest time OTLP carries (``fixed64`` nanoseconds since the Unix epoch)."""
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
"""The range of OTLP's integer attribute values (``int64``)."""

_SAID = {
    "time": "some times fall outside what OTLP carries (0 to 2**64-1 ns since the epoch): "
    "they are clamped to it",
    "int": "some integers do not fit OTLP's 64 bits: they are written as strings",
    "type": "some recorded values are of no OpenTelemetry attribute type: they are written "
    "as strings",
}


class CleanSink:
    """A ``SpanSink`` that passes each ``SpanSpec`` on to ``inner`` once it fits OTLP."""

    def __init__(self, inner: SpanSink) -> None:
        self.inner = inner
        self.repaired: set[str] = set()
        """The kinds of repair made so far (``time``, ``int``, ``type``)."""

    def begin(self, key: Key, spec: SpanSpec) -> None:
        """Clamp ``spec``'s start, then ``inner.begin``.

        The rest is cleaned once, at ``finish``: every attribute a sink reads at ``begin``
        (the sampler's) is given again then (``ApiSink`` sets them all on the span; nothing
        is encoded before the span ends), while the start time stays what ``begin`` gave
        (``ApiSink`` starts its span there)."""
        spec.start = self._time(spec.start)
        self.inner.begin(key, spec)

    def finish(self, key: Key, spec: SpanSpec) -> None:
        """Clean ``spec``, then ``inner.finish``."""
        self._clean(spec)
        self.inner.finish(key, spec)

    def _said(self, kind: str) -> None:
        if kind not in self.repaired:
            self.repaired.add(kind)
            log.warning(_SAID[kind])

    def _time(self, value: int) -> int:
        if 0 <= value <= TIME_MAX:
            return value
        self._said("time")
        return 0 if value < 0 else TIME_MAX

    def _clean(self, spec: SpanSpec) -> None:
        spec.start = self._time(spec.start)
        spec.end = self._time(spec.end)
        spec.attributes = self._attributes(spec.attributes)
        spec.events = [
            (name, self._time(at), self._attributes(attrs)) for name, at, attrs in spec.events
        ]
        spec.links = [(key, self._attributes(attrs)) for key, attrs in spec.links]
        pid = spec.pid
        if pid is not None and not (type(pid) is int and 0 < pid <= INT_MAX):
            spec.pid = None
        for child in spec.children:
            self._clean(child)

    def _attributes(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # The usual case, every value a str, bool, float or int of 64 bits, checked inline
        # (this runs for every span and event of an export): nothing copied.
        for value in attrs.values():
            kind = type(value)
            if kind is str or kind is bool or kind is float:
                continue
            if kind is int and INT_MIN <= value <= INT_MAX:
                continue
            if not _fits(value):
                return {key: self._value(value) for key, value in attrs.items()}
        return attrs

    def _value(self, value: Any) -> Any:
        if _fits(value):
            return value
        if type(value) is int:
            self._said("int")
        else:
            self._said("type")
        return str(value)


def _scalar(value: Any) -> bool:
    kind = type(value)
    if kind is int:
        return bool(INT_MIN <= value <= INT_MAX)
    return kind in (str, bool, float, bytes)


def _fits(value: Any) -> bool:
    """Whether OpenTelemetry takes ``value`` as an attribute: a scalar of its types, or a
    list of scalars of one type."""
    if type(value) in (list, tuple):
        return all(_scalar(item) for item in value) and len({type(item) for item in value}) <= 1
    return _scalar(value)
