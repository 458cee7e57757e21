"""How a real server's worker processes ended, read from the marks the bootstrap leaves, and
what that says about a server that exited during the run.

Every process that loaded the app leaves ``<pid>.ready`` in the run's folder; one that ends
by a normal interpreter exit leaves ``<pid>.done``, and one whose app calls ``os._exit`` leaves
``<pid>.exit`` holding the code it asked for (``bootstrap``). A worker that left neither
ended by a signal: SIGKILL, or one it does not handle (hypercorn's master stops its other
workers with SIGTERM, which ends them at once, once one has died). Which one, only the master
that reaped it knew. Imports nothing of ours.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ExitVerdict", "Recycling", "WorkerEnds", "exit_verdict", "recycling", "worker_ends"]


@dataclass(frozen=True, slots=True)
class WorkerEnds:
    """How the worker processes of one run ended, as far as their marks tell."""

    os_exits: tuple[tuple[int, int], ...]
    """(pid, code) of each worker whose app called ``os._exit``, the last one to mark last."""
    killed: tuple[int, ...]
    """Workers that loaded the app and are gone without a mark of either end, by pid."""
    finished: tuple[int, ...] = ()
    """Workers gone by a normal interpreter exit (their ``.done`` mark), by pid: stopped by
    their master, or ended of their own accord (a worker recycled after ``--max-requests``)."""


@dataclass(frozen=True, slots=True)
class ExitVerdict:
    """What is said of a server that exited during the run, from its workers' ends."""

    code: int
    """The exit code to report (the app's ``os._exit`` code where the master said 0)."""
    subject: str
    """Who the code is about (``a worker process of hypercorn``)."""
    words: str
    """The line's cause (``the app called os._exit(1) in a worker process of ...``)."""
    quote: bool
    """Whether the server's last words are worth quoting after ``words``."""


def worker_ends(folder: Path, master: int | None, live: Collection[int] = ()) -> WorkerEnds:
    """The ends of the worker processes whose marks are in ``folder``: ``master`` (the
    server's main process) is no worker, and the processes still ``live`` are not gone."""
    exits: list[tuple[int, int, int]] = []
    for mark in folder.glob("*.exit"):
        if not mark.stem.isdigit() or int(mark.stem) == master:
            continue
        # A mark cut short (its process killed as it wrote) says os._exit was called, not
        # with what: it is no worker killed, and no code to report.
        with contextlib.suppress(OSError, ValueError):
            exits.append((mark.stat().st_mtime_ns, int(mark.stem), int(mark.read_text())))
    killed: list[int] = []
    finished: list[int] = []
    for ready in folder.glob("*.ready"):
        if not ready.stem.isdigit():
            continue
        pid = int(ready.stem)
        if pid == master or pid in live:
            continue
        if (folder / f"{pid}.exit").exists():
            continue
        (finished if (folder / f"{pid}.done").exists() else killed).append(pid)
    return WorkerEnds(
        os_exits=tuple((pid, code) for _, pid, code in sorted(exits)),
        killed=tuple(sorted(killed)),
        finished=tuple(sorted(finished)),
    )


def exit_verdict(name: str, code: int, ends: WorkerEnds) -> ExitVerdict | None:
    """What is said of server ``name`` that exited with ``code`` (0 or more) during the run,
    given how its workers ended; None when no worker's end explains it (it exited itself).

    The app's own ``os._exit`` wins over workers killed by a signal: once one worker is gone
    a master may stop the others with a signal (hypercorn's SIGTERM ends them at once), and
    those leave no mark, whereas an ``os._exit`` mark is only ever the app's doing. Of several
    ``os._exit`` marks, the last one's is said: a server that replaces dead workers (gunicorn)
    exits at the one it cannot get past."""
    subject = f"a worker process of {name}"
    if ends.os_exits:
        pid, asked = ends.os_exits[-1]
        # The cause is known: the master's reading of its worker's exit code (gunicorn takes
        # 3 for "Worker failed to boot") would only mislead. hypercorn's master exits with 0
        # when its worker exited with 1 (its last join of the workers overwrites the code).
        return ExitVerdict(
            code=asked if code == 0 else code,
            subject=subject,
            words=(
                f"the app called os._exit({asked}) in {subject} (pid {pid}) during the run"
                + (f", and {name} exited (exit code {code})" if code != asked else "")
            ),
            quote=False,
        )
    if ends.killed:
        # Which of them died first, no mark tells.
        pids = ", ".join(str(pid) for pid in ends.killed)
        which = (
            f"(pid {pids})"
            if len(ends.killed) == 1
            else f"({len(ends.killed)} of its processes ended by one: pid {pids})"
        )
        return ExitVerdict(
            code=code,
            subject=subject,
            words=(
                f"{subject} was killed by a signal during the run {which}, "
                f"and {name} exited (exit code {code})"
            ),
            quote=True,
        )
    return None


@dataclass(frozen=True, slots=True)
class Recycling:
    """What became of the worker processes during a run with ``--max-requests``."""

    recycled: int = 0
    """Workers that reached their limit and ended, each followed by a new one."""
    died: int = 0
    """New workers that followed no worker at its limit: in place of ones that died."""
    reached: int = 0
    """Workers that reached their limit and ended with no new one loading the app after them
    (the run ended first): none was replaced, none needed to be."""


def recycling(
    folder: Path,
    master: int | None,
    *,
    expected: int,
    limit: int,
    served: Mapping[int, int],
) -> Recycling:
    """Which workers were recycled during the run, from the marks in ``folder``: a worker that
    reached ``limit`` of the client's requests (``served``, by pid) and exited normally (its
    ``.done``) is recycled when a new worker loaded the app after it ended (the marks'
    times); the first ``expected`` to load it are the workers the server started with. Each
    new worker follows at most one that ended; one that follows none replaced one that
    died."""
    ready: list[tuple[int, int]] = []
    for mark in folder.glob("*.ready"):
        if mark.stem.isdigit() and int(mark.stem) != master:
            with contextlib.suppress(OSError):
                ready.append((mark.stat().st_mtime_ns, int(mark.stem)))
    ready.sort()
    new = ready[expected:]
    at_limit: list[tuple[int, int]] = []
    if limit:
        for _, pid in ready:
            done = folder / f"{pid}.done"
            if served.get(pid, 0) >= limit and done.exists():
                with contextlib.suppress(OSError):
                    at_limit.append((done.stat().st_mtime_ns, pid))
    at_limit.sort()
    followed: set[int] = set()
    for started, pid in new:
        # The earliest worker at its limit that had ended when this one loaded the app, and
        # is not this one: the marks' times are the kernel's coarse clock (a tick of some
        # milliseconds), so a worker that loaded, served its limit and ended within one tick
        # has its ``.done`` as old as its ``.ready``, and would otherwise follow itself.
        for ended, ender in at_limit:
            if ender != pid and ender not in followed and ended <= started:
                followed.add(ender)
                break
    recycled = len(followed)
    return Recycling(recycled=recycled, died=len(new) - recycled, reached=len(at_limit) - recycled)
