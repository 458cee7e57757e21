"""What ``trace run`` says on stderr about how its run ended, after the recording is closed.

Who exited by itself during the run (a server, or one of its workers) with its exit code and
the line of its output that best says why; what the server gave up on while it stopped; an
open-loop load the generator could not keep up with. Imports ``tracer.servers.real.harness``
only, when a server's output is read.
"""

from __future__ import annotations

import re
import sys
from typing import Any

__all__ = ["who_exited", "last_words", "open_loop_shortfall", "say_how_it_ended"]


def say_how_it_ended(server: Any, config: Any, sent: int, *, stopped: bool) -> None:
    """The lines on stderr, if any, that say how the run ended unlike asked: the server (or
    a worker) exited by itself, its notices, an open loop that sent too few requests."""
    ended = who_exited(server)
    if ended is not None:
        # The app killed its server: data, as any failure of the app, but the load stopped.
        quote = getattr(server, "exit_quote", True)  # False: the words name the cause
        said = last_words(getattr(server, "output", lambda: "")()) if quote else ""
        who, exit_code = ended
        effect = getattr(
            server, "exit_effect", "requests after that failed and the load was stopped"
        )
        # A real server says how it ended when it knows better than "by itself" (a signal).
        how = getattr(server, "exit_words", None) or (
            f"{who} exited by itself during the run (exit code {exit_code})"
        )
        print(
            f"trace: {how}; {effect}." + (f" Its last words: {said}" if said else ""),
            file=sys.stderr,
        )
    for notice in getattr(server, "notices", ()):
        # What the server gave up on while it stopped (a lifespan shutdown that hung).
        print(f"trace: {notice}", file=sys.stderr)
    shortfall = open_loop_shortfall(config, sent, stopped=stopped)
    if shortfall:
        print(shortfall, file=sys.stderr)


def who_exited(server: Any) -> tuple[str, int] | None:
    """Who exited by itself during the run (the server, or one of its worker processes) and
    its exit code; None when nothing did."""
    code = getattr(server, "exit_code", None)
    if code is None:
        return None
    who = getattr(server, "exit_subject", None) or server.describe().get("model")
    return str(who), int(code)


# Lines of a server's log that never say why it exited: what it logs at INFO or DEBUG (where
# it serves, its workers booting) and waitress's warning whenever requests wait for a thread.
_ROUTINE = re.compile(
    r"^(?:INFO|DEBUG)\b|\[(?:INFO|DEBUG)\]|\s(?:INFO|DEBUG)\s|Task queue depth is \d"
)


def last_words(text: str) -> str:
    """The line of a server's output that best says why it exited, its routine lines left
    out: the harness's ``failure_line`` (the last line naming an error, else the last line);
    "" when it said nothing else."""
    from tracer.servers.real.harness import failure_line

    said = "\n".join(line for line in text.splitlines() if not _ROUTINE.search(line))
    return failure_line(said, silent="")  # cut there, to QUOTE_LIMIT characters


def open_loop_shortfall(config: Any, sent: int, *, stopped: bool) -> str:
    """A warning when an open-loop run (``--rate`` for ``-z``) sent clearly fewer requests than
    asked for: the load generator could not keep up on this machine, and the report describes
    a lighter load than the command line says. Empty when it kept up (or was stopped)."""
    if stopped or config.rate is None or config.duration is None:
        return ""
    asked = config.rate * config.duration
    # Poisson arrivals: more than 4 standard deviations short is not chance.
    if asked - sent <= max(4 * asked**0.5, 0.02 * asked):
        return ""
    return (
        f"trace: the load generator sent {sent} requests, {sent / asked:.0%} of the "
        f"{asked:.0f} that --rate {config.rate:g} for {config.duration:g} s asks for: it could "
        "not keep up on this machine, and the report is of the load it did send."
    )
