"""The watchdog's looks at a loop thread read its two /proc files (``syscall``, ``schedstat``)
through files kept open from the first look: a look reads, never opens, and the files close
when their thread ends, when the watchdog stops, and in a forked child (they are its parent's
threads')."""

from __future__ import annotations

import gc
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tracer.shim import blocking, kernel

pytestmark = [
    pytest.mark.timeout(30),
    pytest.mark.skipif(kernel.READ is None, reason="the kernel's view is Linux's"),
]


def _task_files(native_id: int, pid: int | None = None) -> dict[int, str]:
    """This process's open files that are thread ``native_id``'s /proc files, by descriptor."""
    found = {}
    prefix = f"/proc/{pid or os.getpid()}/task/{native_id}/"
    for name in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            continue  # the listing's own descriptor, closed meanwhile
        if target.startswith(prefix):
            found[int(name)] = target[len(prefix) :]
    return found


def _no_watchdog() -> None:
    """Wait until no watchdog of an earlier test runs in this process: its passes keep open only
    the files of the loops it watches, and would close the ones these tests open (a loop an
    earlier test left unclosed keeps it going until the garbage collector frees the loop)."""
    for _ in range(300):
        if blocking._WATCHDOG["thread"] is None:
            return
        gc.collect()
        time.sleep(0.01)
    pytest.skip("a watchdog of an earlier test is still watching a loop in this process")


@pytest.fixture
def waiting_thread() -> Iterator[tuple[int, threading.Event]]:
    """A thread waiting on a lock until told to end: its native id and the event that ends it."""
    _no_watchdog()
    ready, done = threading.Event(), threading.Event()
    native: list[int] = []

    def wait() -> None:
        native.append(threading.get_native_id())
        ready.set()
        done.wait(20)

    thread = threading.Thread(target=wait, name="kernel-files-waiter")
    thread.start()
    assert ready.wait(5)
    for _ in range(500):  # until it sits in its wait, not on its way there
        with open(f"/proc/self/task/{native[0]}/syscall", "rb") as file:
            if kernel.in_lock_wait(file.read()):
                break
        time.sleep(0.01)
    yield native[0], done
    done.set()
    thread.join(5)
    kernel.keep_files(set())


def test_looks_read_the_files_opened_at_the_first_one(
    waiting_thread: tuple[int, threading.Event],
) -> None:
    native_id, _ = waiting_thread
    assert _task_files(native_id) == {}
    looks = [kernel.look(native_id) for _ in range(5)]
    assert all(look is not None for look in looks), looks
    # Each look read the files anew: the thread sits in its lock wait (``futex``), and its
    # schedstat is a count that only grows.
    assert [look.lock_wait for look in looks if look is not None] == [True] * 5
    delays = [look.run_delay for look in looks if look is not None]
    assert delays == sorted(delays)
    files = _task_files(native_id)
    assert sorted(files.values()) == ["schedstat", "syscall"], files
    kernel.look(native_id)
    assert _task_files(native_id) == files  # the same descriptors: no file opened again
    kernel.keep_files({native_id})
    assert _task_files(native_id) == files
    kernel.keep_files(set())
    assert _task_files(native_id) == {}


def test_a_thread_that_ended_is_not_looked_at_and_its_files_close(
    waiting_thread: tuple[int, threading.Event],
) -> None:
    native_id, done = waiting_thread
    assert kernel.look(native_id) is not None
    assert len(_task_files(native_id)) == 2
    done.set()
    for thread in threading.enumerate():
        if thread.name == "kernel-files-waiter":
            thread.join(5)
    assert kernel.look(native_id) is None
    assert _task_files(native_id) == {}


def test_closing_every_file_when_the_watchdog_stops(
    waiting_thread: tuple[int, threading.Event],
) -> None:
    native_id, _ = waiting_thread
    assert kernel.look(native_id) is not None
    assert kernel.look(threading.get_native_id()) is not None
    kernel.close_files()
    assert _task_files(native_id) == {}
    assert _task_files(threading.get_native_id()) == {}


def test_a_forked_child_closes_the_files_of_its_parents_threads(
    waiting_thread: tuple[int, threading.Event],
) -> None:
    native_id, _ = waiting_thread
    assert kernel.look(native_id) is not None
    parent = os.getpid()
    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        try:
            left = _task_files(native_id, parent)
            os.write(writing, repr(sorted(left.values())).encode())
        finally:
            os._exit(0)
    os.close(writing)
    with os.fdopen(reading, "rb") as said:
        answer = said.read().decode()
    os.waitpid(child, 0)
    assert answer == "[]"
    assert len(_task_files(native_id)) == 2  # the parent's own stay open


def test_a_thread_whose_system_call_cannot_be_read_still_has_its_run_queue_wait(
    waiting_thread: tuple[int, threading.Event], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where ``syscall`` is not there to open (a kernel or sandbox without it), a look still
    says the run-queue wait and clocks: ``descheduled_ns`` rests on them alone."""
    native_id, _ = waiting_thread
    assert kernel.READ is not None
    real_open = kernel.READ._open
    monkeypatch.setattr(
        kernel.READ,
        "_open",
        lambda path, flags: -1 if path.endswith(b"/syscall") else real_open(path, flags),
    )
    look = kernel.look(native_id)
    assert look is not None and look.lock_wait is None and not look.settled
    assert look.run_delay >= 0 and look.thread_cpu > 0
    assert list(_task_files(native_id).values()) == ["schedstat"]


def test_a_file_closed_behind_its_back_and_reused_is_left_to_its_new_owner(
    waiting_thread: tuple[int, threading.Event], tmp_path: Path
) -> None:
    """Code of the process that closes every descriptor (daemonizing, say) and opens its own
    files again may be given the numbers the looks used: those stay open, theirs."""
    native_id, _ = waiting_thread
    assert kernel.look(native_id) is not None
    mine = sorted(_task_files(native_id))
    for n, fd in enumerate(mine):  # each number closed and opened again as a file of ours
        opened = os.open(tmp_path / f"mine{n}", os.O_CREAT | os.O_RDWR)
        os.dup2(opened, fd)
        os.close(opened)
    try:
        assert kernel.look(native_id) is None  # read, found no schedstat: dropped
        for fd in mine:
            os.fstat(fd)  # still open
        assert kernel.look(native_id) is not None  # opened anew
    finally:
        for fd in mine:
            os.close(fd)
