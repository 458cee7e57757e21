"""Process groups for ``--server processes``: the worker and what the app forks go together.

Each worker leads a session (and process group) of its own, as a real server does
(``start_new_session``): processes the app forks are in it too. The parent signals the group
when it stops the worker, so none outlives the run, nor holds the worker's descriptors (its
pipe, its sentinel) open after it. A worker whose parent ended without stopping it (killed)
kills its own group: a killed ``trace`` leaves no worker behind, blocked on a queue nobody
feeds, nor anything the app forked.

Imports nothing of the tracer but ``tracer.servers.waits`` (its sleep is the one from before
the app): a worker calls it before it imports the app.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterable

from tracer.servers.waits import monotonic, sleep

__all__ = [
    "end_with_parent",
    "group_alive",
    "group_members",
    "lead_own_group",
    "signal_groups",
    "wait_gone",
]


def lead_own_group() -> bool:
    """Make this process the leader of a new session and process group (its id is this pid);
    whether it did (not off POSIX, nor for a process that leads a group already)."""
    if not hasattr(os, "setsid"):
        return False
    try:
        os.setsid()
    except OSError:
        return False
    return True


def end_with_parent(own_group: bool) -> threading.Thread | None:
    """Once the process that started this one (with multiprocessing) has ended, end this one,
    with ``own_group`` every process of its group (what the app forked) too; None: started
    otherwise, no parent to watch.

    A daemon thread waits, blocked in a read of the pipe multiprocessing keeps from the parent:
    its end closes when the parent's process ends, however it ends. No polling, and nothing on
    the requests' path. (``PR_SET_PDEATHSIG`` would kill this process at once, before it could
    take what the app forked along, and fires when the parent's *thread* that started it ends.)
    """
    parent = multiprocessing.parent_process()
    if parent is None:
        return None

    def watch() -> None:
        parent.join()
        if own_group:
            # Nobody is left to read what this process would send: no clean end to wait for.
            with contextlib.suppress(OSError):
                os.killpg(os.getpgrp(), signal.SIGKILL)
        os._exit(1)

    thread = threading.Thread(target=watch, name="gateway-tracer-parent-watch", daemon=True)
    thread.start()
    return thread


def signal_groups(groups: Iterable[int], signum: int) -> None:
    """Send ``signum`` to every process of each of ``groups`` (those gone already are skipped)."""
    if not hasattr(os, "killpg"):
        return
    for pgid in groups:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signum)


def group_members(pgid: int) -> list[int]:
    """Pids of live processes (not zombies) in process group ``pgid``, from /proc (empty off
    Linux). A zombie counts for ``kill(0)``, so /proc's stat is asked for each one's state."""
    members: list[int] = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return members
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as file:
                stat = file.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()  # state ppid pgrp ...
        if len(fields) > 2 and fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry))
    return members


def group_alive(pgid: int) -> bool:
    """Whether process group ``pgid`` has a process still running (a zombie has ended)."""
    if not hasattr(os, "killpg"):
        return False
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if not os.path.isdir("/proc"):
        return True  # no /proc to tell zombies apart: kill() found someone
    return bool(group_members(pgid))


def wait_gone(
    groups: Iterable[int],
    deadline: float,
    interval: float = 0.02,
    clock: Callable[[], float] = monotonic,
) -> list[int]:
    """Wait until no process of ``groups`` runs, until ``deadline`` (on ``clock``) at most;
    the groups that still have one."""
    left = [pgid for pgid in groups if group_alive(pgid)]
    while left and clock() < deadline:
        sleep(interval)
        left = [pgid for pgid in left if group_alive(pgid)]
    return left
