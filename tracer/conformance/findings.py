"""What ``trace check`` found: ``Finding`` rows from ``violation`` events, and their formats.

A finding is a ``violation`` event joined with the request that caused it and the app's
``file:line`` (from the event, else the coroutine step or error of that request, else the
app's own code). ``FORMATS`` maps ``--format`` choices to renderers. Imports only the spine
and the conformance package.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import os
import traceback
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from tracer import events as K
from tracer.conformance.rules import ERROR, RULES, WARNING
from tracer.events import Event
from tracer.printable import printable
from tracer.sourcepath import OURS, OWN_DIR, USER, display_path, source_kind

__all__ = [
    "Finding",
    "CheckReport",
    "findings_from_events",
    "crashes_from_events",
    "crash_of",
    "app_location",
    "render_text",
    "render_json",
    "render_junit",
    "FORMATS",
]


@dataclass(frozen=True, slots=True)
class Finding:
    """One broken rule, on one request."""

    rule: str
    """Rule id (``HTTP-003``)."""
    severity: str
    """``error`` or ``warning``."""
    message: str
    """What was wrong, with the detail seen."""
    hint: str
    """How to fix it."""
    request: str
    """The probe that caused it (``GET /``, ``websocket /ws``, ``lifespan``)."""
    location: str | None
    """The app's ``file:line``, when known."""


@dataclass(slots=True)
class CheckReport:
    """The outcome of ``check_app``: the findings and the requests that were tried."""

    app: str
    """What was checked (the APP argument, or the app's name)."""
    interface: str
    """``wsgi`` or ``asgi``."""
    findings: list[Finding] = field(default_factory=list)
    """In the order they happened."""
    requests: list[str] = field(default_factory=list)
    """Every probe sent, in order."""
    skipped: list[str] = field(default_factory=list)
    """Probes the app does not handle (a websocket probe to an HTTP-only app), with why."""
    skipped_requests: set[int] = field(default_factory=set)
    """The request ids the skipped probes recorded: not findings, so a saved check recording
    leaves them out too (its summary then counts what the report counts)."""
    crashes: list[dict[str, str | None]] = field(default_factory=list)
    """Probes where the app raised: ``{"request", "type", "message", "where"}``. Not a rule
    broken (a server answers 500), but a check that says "no violations" should say it too."""
    notes: list[str] = field(default_factory=list)
    """What the check did differently for a probe, and why: a websocket endpoint that refused
    the text message (the app's own error on it, or its close) probed with a binary one."""
    strict: bool = False
    """Warnings fail the check too (``--strict``): the exit code and JUnit's failures agree."""

    @property
    def errors(self) -> int:
        """How many findings are errors."""
        return sum(1 for finding in self.findings if finding.severity == ERROR)

    @property
    def warnings(self) -> int:
        """How many findings are warnings."""
        return sum(1 for finding in self.findings if finding.severity == WARNING)

    def failed(self, strict: bool | None = None) -> bool:
        """True when there are errors (or, with ``strict``, any finding); ``strict`` defaults
        to the report's own."""
        return (
            bool(self.findings) if (self.strict if strict is None else strict) else self.errors > 0
        )

    def fails(self, finding: Finding) -> bool:
        """Whether ``finding`` fails the check: an error, or a warning with ``strict``."""
        return self.strict or finding.severity == ERROR

    def paths(self) -> list[str]:
        """The paths the probes went to, each once, in order (``GET /a`` -> ``/a``)."""
        seen: dict[str, None] = {}
        for name in self.requests:
            parts = name.split(" ")
            if len(parts) > 1:
                seen.setdefault(parts[1], None)
        return list(seen)


def app_location(app: Any) -> str | None:
    """``file:line`` where ``app`` (a function, or an object with ``__call__``) is defined."""
    target = app
    for _ in range(4):  # unwrap partials, bound methods, callable instances
        target = getattr(target, "func", target)
        # A decorated app (functools.wraps sets ``__wrapped__``) is the user's function, not
        # the decorator's inner one.
        with contextlib.suppress(ValueError):  # a __wrapped__ cycle
            target = inspect.unwrap(target)
        code = getattr(target, "__code__", None)
        if code is not None:
            return f"{display_path(code.co_filename)}:{code.co_firstlineno}"
        if inspect.isclass(target) or not callable(target):
            break
        target = type(target).__call__
    return None


def _step_location(events: Sequence[Event], violation: Event) -> str | None:
    """Where the coroutine step that sent the bad message suspended (same request)."""
    for event in events:
        if (
            event.req == violation.req
            and event.kind == K.SCHED_STEP
            and event.t <= violation.t <= event.end
        ):
            location = event.data.get("location")
            if location:
                return str(location)
    return None


def findings_from_events(
    events: Sequence[Event], request: str, *, fallback: str | None = None
) -> list[Finding]:
    """The ``violation`` events among ``events`` (one probe's), as findings."""
    findings = []
    errors = {e.req: e.data.get("where") for e in events if e.kind == K.ERROR}
    for event in events:
        if event.kind != K.VIOLATION:
            continue
        data = event.data
        rule_id = str(data.get("rule", "?"))
        rule = RULES.get(rule_id)
        location = (
            data.get("location")
            or _step_location(events, event)
            or errors.get(event.req)
            or fallback
        )
        findings.append(
            Finding(
                rule=rule_id,
                severity=str(data.get("severity") or (rule.severity if rule else ERROR)),
                message=str(data.get("message", "")),
                hint=str(data.get("hint") or (rule.hint if rule else "")),
                request=request,
                location=None if location is None else str(location),
            )
        )
    return findings


def _is_own(location: str) -> bool:
    # Locations are "file:line", the file absolute or relative to the current directory.
    # The tracer's own files (shim, driver): never the place to point an app's author at.
    return os.path.abspath(location.rpartition(":")[0] or location).startswith(OWN_DIR)


def crashes_from_events(
    events: Sequence[Event], request: str, *, fallback: str | None = None
) -> list[dict[str, str | None]]:
    """The app's exceptions among ``events`` (one probe's), one row each.

    ``where`` inside the tracer itself (the shim calling ``iter()`` on what the app returned)
    is replaced by ``fallback``, the app's own place: the tracer's file:line helps nobody.
    """
    rows: list[dict[str, str | None]] = []
    for event in events:
        if event.kind == K.ERROR:
            data = event.data
            where = data.get("where")
            if where is None or _is_own(str(where)):
                where = fallback
            rows.append(
                {
                    "request": request,
                    "type": str(data.get("type", "?")),
                    "message": str(data.get("message", "")),
                    "where": None if where is None else str(where),
                }
            )
    return rows


def crash_of(
    exc: BaseException, request: str, fallback: str | None = None
) -> dict[str, str | None]:
    """A crash row (as ``crashes_from_events`` makes) for an exception the app raised that
    no event records; ``where`` is the innermost frame of the app's own code, else of a
    library's or the standard library's (never the tracer's), else ``fallback``."""
    where = fallback
    user = False
    for frame, line in traceback.walk_tb(exc.__traceback__):
        filename = frame.f_code.co_filename
        kind = source_kind(filename)
        # Innermost first among the app's own frames (as every location), then any not ours.
        if kind == USER or (kind != OURS and not user):
            where = f"{display_path(os.path.abspath(filename))}:{line}"
            user = kind == USER
    return {"request": request, "type": type(exc).__name__, "message": str(exc), "where": where}


def _shown(text: str | None) -> str | None:
    """``text`` through ``printable``; None stays None."""
    return None if text is None else printable(text)


def render_text(report: CheckReport) -> str:
    """Human-readable: one block per distinct finding (with every request it hit), a verdict.

    Every string the app chose (routes, exception types and messages, header names quoted in
    a message) goes through ``printable``: an ESC or BEL in it would drive the reader's
    terminal, and a line feed would forge a line of the report.
    """
    groups: dict[tuple[str, str, str, str | None], list[str]] = {}
    hints: dict[str, str] = {}
    for f in report.findings:
        key = (printable(f.rule), printable(f.severity), printable(f.message), _shown(f.location))
        groups.setdefault(key, []).append(printable(f.request))
        hints[key[0]] = printable(f.hint)
    lines = []
    for (rule_id, severity, message, location), requests in groups.items():
        lines.append(f"{rule_id} {severity:<7} {', '.join(requests)}: {message}")
        if location:
            lines.append(f"    at {location}")
        lines.append(f"    hint: {hints[rule_id]}")
    crashed: dict[tuple[str, str, str | None], list[str]] = {}
    for crash in report.crashes:
        kind, message = printable(str(crash["type"])), printable(str(crash["message"]))
        crashed.setdefault((kind, message, _shown(crash["where"])), []).append(
            printable(str(crash["request"]))
        )
    for (kind, message, where), requests in crashed.items():
        said = f"{kind}: {message}" if message else kind
        lines.append(f"app raised {', '.join(requests)}: {said}")
        if where:
            lines.append(f"    at {where}")
    for note in report.notes:
        lines.append(f"note: {printable(note)}")
    for note in report.skipped:
        lines.append(f"skipped: {printable(note)}")
    paths = report.paths()
    if len(paths) > 1:
        lines.append(f"paths: {', '.join(printable(path) for path in paths)}")
    verdict = (
        f"{len(report.findings)} violation(s): {report.errors} error(s), "
        f"{report.warnings} warning(s)"
        if report.findings
        else "no violations"
    )
    verdict = f"{verdict} in {len(report.requests)} requests"
    raised = len({str(crash["request"]) for crash in report.crashes})
    if raised:
        verdict += f"; the app raised in {raised} of them"
    lines.append(f"{printable(report.app)} ({printable(report.interface)}): {verdict}")
    return "\n".join(lines) + "\n"


def render_json(report: CheckReport) -> str:
    """``{"violations": [{"rule", "severity", "message", "hint", "request", "location"}], ...}``."""
    payload = {
        "app": report.app,
        "interface": report.interface,
        "violations": [asdict(finding) for finding in report.findings],
        "requests": report.requests,
        "skipped": report.skipped,
        "notes": report.notes,
        "app_errors": report.crashes,
        "errors": report.errors,
        "warnings": report.warnings,
    }
    return json.dumps(payload, indent=2) + "\n"


def render_junit(report: CheckReport) -> str:
    """JUnit XML: one test case per request, one failure per finding that fails the check (an
    error; a warning too with ``strict``) and the other warnings as that case's
    ``system-out`` (CI dashboards read it), and what the app raised in a request as its
    ``system-err``.

    Every name, message and text goes through ``printable``: XML 1.0 has no way to write most
    C0 controls (not even ``&#1;``), U+FFFE or a lone surrogate, and ElementTree writes them
    raw, so a route or message holding one would make a file no CI server can parse.
    """
    app = printable(report.app)
    suite = ET.Element(
        "testsuite",
        name="gateway-tracer check",
        tests=str(len(report.requests) + len(report.skipped)),
        failures=str(len({f.request for f in report.findings if report.fails(f)})),
        errors="0",
        skipped=str(len(report.skipped)),
    )
    for request in report.requests:
        name = printable(request)
        case = ET.SubElement(suite, "testcase", classname=f"trace check {app}", name=name)
        noted: list[str] = []
        for f in report.findings:
            if f.request != request:
                continue
            rule = printable(f.rule)
            if not report.fails(f):
                # A warning without --strict: the exit code is 0, and a <failure> would turn a
                # CI page red all the same; it is said as the case's output instead.
                where = printable(f.location or "unknown location")
                noted.append(f"{rule} ({printable(f.severity)}): {printable(f.message)} at {where}")
                continue
            failure = ET.SubElement(
                case,
                "failure",
                type=f"{rule} ({printable(f.severity)})",
                message=f"{rule}: {printable(f.message)}",
            )
            where = printable(f.location or "unknown location")
            failure.text = f"{printable(f.hint)}\nat {where}"
        # What the app raised is no rule broken (the exit code does not count it either), but a
        # CI page should show it where the request is: as the test case's error output.
        raised = [
            f"app raised {printable(str(c['type']))}: {printable(str(c['message']))}"
            f" at {printable(str(c['where'] or 'unknown location'))}"
            for c in report.crashes
            if c["request"] == request
        ]
        noted.extend(printable(note) for note in report.notes if note.startswith(f"{request}: "))
        if noted:
            ET.SubElement(case, "system-out").text = "\n".join(noted)
        if raised:
            ET.SubElement(case, "system-err").text = "\n".join(raised)
    for note in report.skipped:
        shown = printable(note)
        case = ET.SubElement(suite, "testcase", classname=f"trace check {app}", name=shown)
        ET.SubElement(case, "skipped", message=shown)
    body = ET.tostring(suite, encoding="unicode")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + body + "\n"


FORMATS: dict[str, Callable[[CheckReport], str]] = {
    "text": render_text,
    "json": render_json,
    "junit": render_junit,
}
"""``trace check --format`` choice -> renderer."""
