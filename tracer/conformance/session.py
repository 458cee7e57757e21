"""One ``trace check`` run's report, and the rules judged after the request.

``Session`` wraps the app in the shim with a recorder of its own (or the caller's), takes the
events each probe leaves and files them: the violations the shim recorded become findings, the
errors it recorded crashes, each under the probe it belongs to (tasks a probe left behind
included, ``collect_late``). The rules only the check can judge, once the request is over,
are added here: CHK-002 (a HEAD answered 5xx where GET was not) and WSGI-022 of a middleware
inside the app (what a ``CloseWatch``, ``tracer.conformance.closes``, saw left unclosed) are
recorded as the probe's ``violation``, like the shim's own; CHK-001 (no end within the
timeout) and CHK-003 (the app raised in every request) are findings of the report. Imports the spine, ``tracer.instrument`` and this package.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tracer import events as K
from tracer.conformance.closes import CloseWatch
from tracer.conformance.findings import (
    CheckReport,
    Finding,
    app_location,
    crash_of,
    crashes_from_events,
    findings_from_events,
)
from tracer.conformance.rules import RULES
from tracer.conformance.schema import is_int
from tracer.events import Event
from tracer.interface import is_asgi
from tracer.recorder import Recorder

__all__ = ["Session", "REFUSED", "UNREACHED_NOTE"]

REFUSED = frozenset({403, 404, 405})
"""Statuses that say a probe never reached a view: forbidden, not found, method not allowed."""

UNREACHED_NOTE = (
    "no routes of the app could be read and every probe of {paths} was refused "
    "(403, 404 or 405): the app's views were not exercised, and the result says nothing "
    "about them. Name paths they serve with --path (repeatable), e.g. --path /items."
)
"""The note of a check whose probes all went to paths the app does not serve."""


class Session:
    """One check run: the recorder, the findings so far, and where the next probe's events start."""

    def __init__(
        self, app: Any, label: str, interface: str, recorder: Recorder | None, timeout: float
    ) -> None:
        from tracer import instrument

        self.timeout = timeout
        self.lifespan_req: int | None = None
        self.lifespan_events: list[Event] = []
        self.own_recorder = recorder is None
        self.recorder = Recorder() if recorder is None else recorder
        # A subscriber sees every event even when the recorder streams to disk and keeps none.
        self._log: list[Event] = []
        self.done = False
        self.recorder.subscribe(self._take)
        self.traced = instrument(app, recorder=self.recorder, interface=interface)
        self.report = CheckReport(app=label, interface="asgi" if is_asgi(interface) else "wsgi")
        self.fallback = app_location(app)
        self._seen = 0
        self._names: dict[int, str] = {}  # req id -> the probe it belongs to
        self._statuses: dict[str, int] = {}  # probe -> the status its request.end says
        # Probes in which the app raised: not what it did to the event loop meanwhile (its
        # loop.stop(), a task's SystemExit), which the driver files as crashes of its own.
        self._raised_in: set[str] = set()

    def _take(self, batch: list[Event]) -> None:
        if not self.done:  # a caller's recorder outlives the check: stop collecting then
            self._log.extend(batch)

    def events(self) -> list[Event]:
        """The events recorded since the last call, minus the lifespan connection's."""
        self.recorder.drain()
        events = self._log
        fresh, self._seen = events[self._seen :], len(events)
        for event in fresh:
            if event.kind == K.REQUEST_START and event.data.get("scope_type") == "lifespan":
                self.lifespan_req = event.req
        if self.lifespan_req is None:
            return fresh
        self.lifespan_events.extend(e for e in fresh if e.req == self.lifespan_req)
        return [e for e in fresh if e.req != self.lifespan_req]

    def collect(
        self,
        request: str,
        *,
        timed_out: bool = False,
        skip: str | None = None,
        events: list[Event] | None = None,
        raised: Sequence[BaseException] = (),
        what: str = "",
        client_left: bool = False,
    ) -> None:
        """File the probe's violations (or drop them, with ``skip``, if it did not apply);
        ``raised``: the app's own ``CancelledError``s, reported as crashes like the exceptions
        the shim records (unless it recorded them too); ``what``: the message
        that went unanswered, when the timeout was not a request's; ``client_left``: a send
        raised ``ClientLeft``, so what the app raised after it is how it learned that its
        client left (Starlette's ClientDisconnect), not a crash."""
        if events is None:
            events = self.events()
        events = self._own(events)
        if skip is not None:
            self.report.skipped.append(f"{request}: {skip}")
            self.report.skipped_requests.update(e.req for e in events if e.req is not None)
            return
        self.report.requests.append(request)
        self._names.update({e.req: request for e in events if e.req is not None})
        # An error's ``where`` is already the app's place (the shim never names its own
        # frames, not even when it is its ``iter()`` of the app's result that raised).
        crashes = crashes_from_events(events, request)
        # A shim that records the app's own CancelledError has said it already.
        said = {(row["type"], row["message"]) for row in crashes}
        for exc in raised:
            row = crash_of(exc, request, self.fallback)
            if (row["type"], row["message"]) not in said:
                crashes.append(row)
        if client_left:
            crashes = []
        if crashes:
            self._raised_in.add(request)
        for event in events:
            status = event.data.get("status") if event.kind == K.REQUEST_END else None
            if is_int(status):  # an IntEnum status (HTTPStatus) too
                self._statuses[request] = int(status)
        if not (timed_out or crashes):  # a crash or a hang says more than its 500 would
            self._judge_head(request, events)
        self.report.findings.extend(findings_from_events(events, request, fallback=self.fallback))
        self.report.crashes.extend(crashes)
        if timed_out:
            rule = RULES["CHK-001"]
            message = f"{rule.message} ({self.timeout:g} s)"
            if what:
                message += f": {what} not answered"
            self.report.findings.append(
                Finding(rule.id, rule.severity, message, rule.hint, request, self.fallback)
            )

    def judge_every_request_raised(self) -> None:
        """CHK-003 on each request when the app raised in every one (the lifespan aside: an
        app can start up and still fail every request). What it raised is listed as usual;
        this makes the check fail, where a report of crashes alone would pass it."""
        report = self.report
        requests = [name for name in report.requests if name != "lifespan"]
        if not requests or not self._raised_in.issuperset(requests):
            return
        rule = RULES["CHK-003"]
        for request in requests:
            report.findings.append(
                Finding(rule.id, rule.severity, rule.message, rule.hint, request, self.fallback)
            )

    def note_unreached(self) -> None:
        """Note that the app's views were not exercised when every probe (the lifespan aside)
        was answered 403, 404 or 405: probes of ``/`` an app with no route there refuses, so
        "no violations" would say nothing of its views."""
        report = self.report
        requests = [name for name in report.requests if name != "lifespan"]
        if requests and all(self._statuses.get(name) in REFUSED for name in requests):
            report.notes.append(UNREACHED_NOTE.format(paths=", ".join(report.paths())))

    def _judge_head(self, request: str, events: list[Event]) -> None:
        """CHK-002 for a HEAD probe answered 5xx where the GET before it was not."""
        method, _, path = request.partition(" ")
        head = self._statuses.get(request)
        get = self._statuses.get(f"GET {path}")
        if method == "HEAD" and head is not None and head >= 500 and get is not None and get < 500:
            self.violate(events, "CHK-002", f"HEAD {head}, GET {get}", self.fallback)

    def judge_closes(self, events: list[Event], watch: CloseWatch) -> None:
        """WSGI-022 for each iterable inside the app that ``watch`` saw left unclosed by the
        finished WSGI probe whose ``events`` these are (a middleware must close its inner
        app's)."""
        for unclosed in watch.unclosed():
            self.violate(events, "WSGI-022", unclosed.detail(), unclosed.location())

    def violate(self, events: list[Event], rule_id: str, detail: str, location: str | None) -> None:
        """Record ``rule_id`` as a ``violation`` of the probe whose ``events`` these are, and
        add it to them: a rule the check judges after the request is in its recording too."""
        req = next((e.req for e in events if e.kind == K.REQUEST_START), None)
        rule = RULES[rule_id]
        data: dict[str, Any] = {
            "rule": rule_id,
            "message": f"{rule.message}: {detail}",
            "severity": rule.severity,
            "hint": rule.hint,
        }
        if location is not None:
            data["location"] = location
        self.recorder.emit(K.VIOLATION, req, data)
        events.extend(self.events())

    def set_aside(self, request: str, events: list[Event], note: str | None = None) -> None:
        """Leave out of the report (and of a saved recording) a session the probe ``request``
        made that is not judged, saying ``note`` about it: the text session of a websocket
        endpoint that refused text, once a binary session took its place. What an earlier
        probe's task or thread did meanwhile stays that probe's."""
        events = self._own(events)
        self.report.skipped_requests.update(e.req for e in events if e.req is not None)
        if note is not None:
            self.report.notes.append(f"{request}: {note}")

    def crash_said(self, events: list[Event], request: str) -> str | None:
        """What the app raised among ``events``, as a report says it (type: message at where)."""
        for row in crashes_from_events(events, request, fallback=self.fallback):
            said = f"{row['type']}: {row['message']}" if row["message"] else str(row["type"])
            return f"{said} at {row['where']}" if row["where"] else said
        return None

    def _own(self, events: list[Event]) -> list[Event]:
        """``events`` but those of probes already collected, which are filed under their own
        probe: what a task or thread an earlier probe left behind did meanwhile is its."""
        if not self._names:
            return events
        self._file_late([e for e in events if e.req in self._names])
        return [e for e in events if e.req not in self._names]

    def collect_late(self) -> None:
        """File the events recorded since the last probe (tasks and threads the probes left
        behind) under the probe each one's connection belongs to."""
        self._file_late(self.events())

    def _file_late(self, events: list[Event]) -> None:
        """File ``events`` of probes already collected under the probe each belongs to."""
        late: dict[str, list[Event]] = {}
        for event in events:
            name = self._names.get(event.req) if event.req is not None else None
            if name is not None:
                late.setdefault(name, []).append(event)
        for name, events in late.items():
            self.report.findings.extend(findings_from_events(events, name, fallback=self.fallback))
            self.report.crashes.extend(crashes_from_events(events, name))
