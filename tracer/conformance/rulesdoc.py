"""Renders ``docs/rules.md`` from the rule registry: ``python -m tracer.conformance.rulesdoc``.

A test compares the file with ``render()``, so the document never drifts from the code. The
file written is the checkout's own ``docs/rules.md`` (found from this module, not from the
working folder); an installed package has no docs folder, so there an OUTPUT must be given.
Imports only ``tracer.conformance.rules``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tracer.conformance.rules import ERROR, INTERFACES, RULES

__all__ = ["checkout_rules_file", "render", "main"]

_INTRO = """\
# Protocol rules

The shims check every protocol call an app makes against the WSGI (PEP 3333) and ASGI
contracts while it runs, in every recording (`trace run`, real servers, `tracer.instrument`).
A broken rule becomes a `violation` event (`data`: `rule`, `message`, `severity`, `hint`, and
`location` when the app's `file:line` is known: docs/recording-format.md says which line each
kind of rule names; `trace check` shows the app's `def` line when there is none), counted in
the summary (`violations`). A rule broken in a call the app makes names the innermost line of
the app's own code among the frames that made the call (a Starlette endpoint's
`websocket.close(...)`, not the framework's wrapper that forwards it), as `sched.step`
locations do; a library's or the standard library's line only when none of the app's own
code is there (a framework's own response, sent after the endpoint returned).
`trace check APP` drives an app through representative requests (at the `--path`s given, else
at every route a Flask, Quart, Starlette, FastAPI, Litestar, Falcon, Bottle, Sanic or Django
app declares, else at `/`: each method the route declares, a HEAD after each GET; an ASGI app
also gets a websocket session at each path, whose
one message is JSON text, and its lifespan) and lists them. The websocket client behaves as
uvicorn and a real client do: nothing follows `websocket.connect` until the app has answered
the handshake (accept, close or a whole denial response; unanswered, the client leaves at
half the timeout), and it closes once the app replied to its message (or 0.2 s went by
without a reply), so an app whose reader task receives before it accepts is judged on what
it sends. Its close reaches the server as soon as the app lets the event loop run after the
reply: a send after that raises an `OSError`, as uvicorn's does on a closed connection (ASGI
spec 2.4), so a second `websocket.close` sent when the first one raised is `WS-003` (Falcon's
ASGI app does that), while the error itself, ending the app, is not listed as a crash.
An endpoint that refuses the text message (it raises on it before replying, as
Starlette's `receive_bytes` does, or closes with 1003 or 1007) gets a second session whose
message is binary (the same JSON), and that session is judged: the refusal is listed as a
note, not as a crash of the app (if the binary one fails too, the text session stands).
A probe the app does not handle (a websocket session to an HTTP-only app) is
listed as skipped, not judged, and `--record FILE` saves the check's recording without it
(`-o` naming that same file is refused, exit code 2: the report would replace the recording);
a framework that routes websocket scopes itself (Starlette, Quart, Litestar, Falcon's ASGI
app, Sanic) is judged on what it answers one, so Sanic answering it with its HTTP route's
response is `WS-010` (uvicorn and hypercorn fail that session with a 500).
The GET probes come from a client that reads trailers (`TE: trailers`, and
`http.response.trailers` in the scope's extensions, as hypercorn advertises it); the others
do not. An app that checks `scope["extensions"]` before announcing trailers has them judged
on the GET (`HTTP-021`, `HTTP-022`, `HTTP-023`, each alone), and one that announces them
regardless gets `HTTP-024` on the other probes.
An app that raised in every request the check sent (the lifespan aside) never answered one:
`CHK-003` on each, and the check fails. One that raises in some (a POST handler that wants
other JSON than the probe's) passes, what it raised listed.
The pytest plugin fails a test on them.
Calls the app makes after a request ended (`WSGI-026`, `ASGI-003`), from tasks or threads it
left behind, are filed under that request: after its last request the check waits for those
tasks and threads to end, at most 0.2 s, so a call made later than that is not seen (`trace
run` sees it while its server runs).
An ASGI app that raises `SystemExit` or `KeyboardInterrupt` in its lifespan is reported as
having raised there (`app raised lifespan: SystemExit`) and the requests are probed, as
uvicorn logs the failed lifespan and serves on. One that ends the server's event loop itself
(a task it created raises `SystemExit` or `KeyboardInterrupt`, or it calls `loop.stop()`)
would end uvicorn: the check reports it as an app error of the request that did it and runs
the loop on, so the probes after it are still judged.
A task that never ends, even once cancelled (it catches `CancelledError` and goes on), is
CHK-001 of its request; when the check ends it waits for such tasks at most a quarter of the
timeout (0.25 s to 0.5 s), then closes its event loop without them.
Only `trace check` sees `WSGI-022` of a middleware inside the app (one whose response's
`close()` does not close the inner app's iterable; the line is the middleware's call of the
inner app) and the `CHK-*` rules.

Severity: **error** — the contract is broken and servers differ in what they do about it (drop
the connection, send garbage, hang); **warning** — legal but almost always a mistake, or
something a server handles for you. `trace check` exits 1 on errors (`--strict`: on warnings
too). Each rule is reported at most once per request, and one mistake is one finding: a rule
that only follows from another is left out (a body before a start_response that never comes
is `WSGI-001`, not `WSGI-003` too; a Content-Type header of the wrong type is `WSGI-008` or
`WSGI-009`, not `WSGI-016` too; a body chunk that is not bytes is not also a Content-Length
mismatch).

This file is generated from `tracer/conformance/rules.py`
(`python -m tracer.conformance.rulesdoc`); a test keeps them equal.
"""


_LIMITS = """
## Limits

- **What counts as an int, a str, bytes.** The ASGI spec's types: an `int` subclass (an
  `HTTPStatus`, an `IntEnum` close code) is an int, and a `str` or `bytes` subclass
  (markupsafe's `Markup` as websocket text) is str or bytes. uvicorn, hypercorn and daphne
  send an `HTTPStatus` as its number and a `Markup` as text; uvicorn and hypercorn send an
  `IntEnum` close code as its number. A bool is no status or close code (`HTTP-006`,
  `WS-004`): `True` goes out as status 1 (uvicorn drops the connection, hypercorn answers
  500, daphne writes `HTTP/1.1 1 Unknown Status`). A `bytearray` or `memoryview` body stays
  `HTTP-014`: the spec's byte string is `bytes` ("all strings are one of the two exact
  types"), and though uvicorn and hypercorn send it, daphne raises `TypeError: Data must be
  bytes` and its client never gets the response. Daphne (autobahn) is stricter than the spec
  about close codes, which the check does not report: it raises on one that is not exactly an
  `int`, and on any but 1000 and 3000-4999 (RFC 6455 allows 1001-1003 and 1007-1014 too).
- **Where a late `send` was made.** A `send(...)` coroutine the app hands to the event loop as a
  task of its own (`asyncio.run_coroutine_threadsafe(send(message), loop)` from a thread) runs
  with no frame of the app above it: its `ASGI-003` has no `location` (the loop's and the
  server's frames did not make the call), and its message ends "run by the event loop as a task
  of its own"; `trace check` then shows the app's `def` line. A kept `send` awaited by the app's
  own coroutine (a task left behind) is located at that `await`.
- **`warnings.warn(..., stacklevel=2)` inside the app.** Under the shims the app's caller is
  the shim (the WSGI shim's call of the app, `tracer/shim/wsgi_cycle.py`; the ASGI shim's step
  of the app's coroutine, `tracer/shim/steps.py`), so a warning the app attributes to its
  caller names that file where, without the shim, it names the server's (a `stacklevel` that
  stays inside the app, as a library's own warnings do, is not affected). The shim's frame
  must be around the call to record what the app raises, and Python 3.11's `warnings` skips no
  frame but `importlib`'s own when it counts `stacklevel` (`skip_file_prefixes`, which the
  caller of `warn` passes, came in 3.12); catching and re-issuing the app's warnings on every
  request would cost every request and change process-wide state (`catch_warnings` is not
  thread-safe). So the shims leave it so.
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render() -> str:
    """The Markdown text of docs/rules.md."""
    lines = [_INTRO]
    counts = {name: 0 for name in INTERFACES}
    for rule in RULES.values():
        counts[rule.interface] += 1
    lines.append(
        f"{len(RULES)} rules: "
        + ", ".join(f"{INTERFACES[name]} {count}" for name, count in counts.items() if count)
        + ".\n"
    )
    for interface, title in INTERFACES.items():
        rules = [rule for rule in RULES.values() if rule.interface == interface]
        if not rules:
            continue
        lines.append(f"\n## {title}\n")
        lines.append("| rule | severity | what is wrong | how to fix it |")
        lines.append("|---|---|---|---|")
        for rule in rules:
            severity = "**error**" if rule.severity == ERROR else "warning"
            lines.append(
                f"| `{rule.id}` | {severity} | {_cell(rule.message)} | {_cell(rule.hint)} |"
            )
    lines.append(_LIMITS)
    return "\n".join(lines)


def checkout_rules_file() -> Path | None:
    """``docs/rules.md`` of the source tree this package was imported from, or None when it
    is not a checkout (an installed wheel: site-packages has no ``pyproject.toml`` and docs)."""
    root = Path(__file__).resolve().parents[2]
    if (root / "pyproject.toml").is_file() and (root / "docs").is_dir():
        return root / "docs" / "rules.md"
    return None


def main(argv: list[str] | None = None) -> int:
    """Write the rendering to OUTPUT (default: the checkout's ``docs/rules.md``); a problem is
    one line on stderr and exit 2."""
    prog = "python -m tracer.conformance.rulesdoc"
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Write docs/rules.md from the rule registry.",
    )
    parser.add_argument(
        "output",
        nargs="?",
        default=None,
        help="where to write (default: docs/rules.md of the checkout the package runs from)",
    )
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    path = Path(args.output) if args.output is not None else checkout_rules_file()
    if path is None:
        package = Path(__file__).resolve().parents[1]
        print(
            f"{prog}: error: tracer is installed ({package}), not a checkout with a docs "
            f"folder; give the file to write, e.g. {prog} rules.md",
            file=sys.stderr,
        )
        return 2
    try:
        path.write_text(render(), encoding="utf-8")
    except OSError as exc:
        print(f'{prog}: error: cannot write "{path}" ({exc.strerror or exc}).', file=sys.stderr)
        return 2
    print(f"wrote {path} ({len(RULES)} rules)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
