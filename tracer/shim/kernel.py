"""What the kernel says of an event loop's thread, for ``loop.blocked`` (Linux; nothing elsewhere).

The watchdog of ``tracer.shim.blocking`` takes a ``Look`` at each wake-up: whether the loop
thread sits in a lock wait (``futex``: the GIL, or a lock another thread holds), its run-queue
wait so far (``/proc/self/task/<tid>/schedstat``: runnable but on no CPU, descheduled) and the
process's CPU clock. A step that ends blocked asks ``kernel_view`` how long at least it was
descheduled (its ``loop.blocked`` says so, as ``descheduled_ns``, whatever the verdict) and how
busy the process's other threads were, and ``contention`` turns that into ``others_busy`` and
``starved``. The files are read with the GIL kept (``READ``), so the loop thread is as its
stack showed it, through descriptors kept open (``pread``). Imports nothing of ours at run time.
"""

from __future__ import annotations

import os
import platform
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tracer.shim.blocking import LoopState, Outside, Sample

__all__ = [
    "READ",
    "Look",
    "KernelView",
    "close_files",
    "contention",
    "in_lock_wait",
    "keep_files",
    "kernel_view",
    "look",
]


class Look:
    """What the kernel said of a loop thread at one watchdog wake-up (Linux)."""

    __slots__ = ("t", "lock_wait", "run_delay", "thread_cpu", "process_cpu")

    def __init__(
        self, t: int, lock_wait: bool | None, run_delay: int, thread_cpu: int, process_cpu: int
    ) -> None:
        self.t = t
        """``time.monotonic_ns`` before anything was read."""
        self.lock_wait = lock_wait
        """In a lock wait (True), in another system call (False), or on a CPU or a run queue
        (None): see ``in_lock_wait``."""
        self.run_delay = run_delay
        """The thread's run-queue wait so far, ns (schedstat's 2nd field)."""
        self.thread_cpu = thread_cpu
        """The thread's CPU so far, ns (schedstat's 1st field)."""
        self.process_cpu = process_cpu
        """The process's CPU clock, ns."""

    @property
    def settled(self) -> bool:
        """The thread sat in a system call: no run-queue wait of it was under way, so every
        wait counted after this look began after it (the kernel adds a wait when it ends)."""
        return self.lock_wait is not None


# The ``futex`` system call's number, where a thread waiting for a lock (the GIL's among them)
# sits, by machine (Linux's /proc/<pid>/task/<tid>/syscall shows the call a thread is in).
_FUTEX = {"x86_64": b"202", "aarch64": b"98", "arm64": b"98"}.get(platform.machine())
# Read-only, and no program the process runs inherits them.
_FLAGS = os.O_RDONLY | os.O_CLOEXEC


class _Files:
    """The loop threads' two /proc files (``syscall``, ``schedstat``), read keeping the GIL.

    Python's own file reads let the GIL go, and the loop thread, waiting for it, would take it
    and be seen running: libc's calls through ``ctypes.PyDLL`` keep it, so the thread's system
    call is read as it was when its stack was sampled. Each file stays open from the first look
    at a thread and is read again with ``pread`` at offset 0 (the kernel makes its text anew):
    opening ``/proc/self/task/<tid>/syscall`` walks the path and checks access at every open,
    which cost the watchdog three times the read itself under load.

    Only the watchdog thread reads, opens or closes them (``drop``, ``close``), so no file
    closed under a read is ever reopened as another; a forked child closes the ones it
    inherited, which are its parent's threads'.
    """

    def __init__(self, c_open: Any, c_pread: Any, c_close: Any) -> None:
        import ctypes

        self._open, self._pread, self._close = c_open, c_pread, c_close
        self._buffer = ctypes.create_string_buffer(128)
        self._open_fds: dict[int, tuple[int, int]] = {}
        self._identity: dict[int, tuple[int, int] | None] = {}
        """By descriptor, the (device, inode) it was opened as: one the process closed behind
        our back and opened again as another file is left to its new owner."""
        os.register_at_fork(after_in_child=self.close)

    def read(self, native_id: int) -> tuple[bytes, bytes] | None:
        """(``syscall``, ``schedstat``) of thread ``native_id`` of this process, read in that
        order (``syscall`` empty where it cannot be read); None when its schedstat cannot be
        opened or read (the thread has ended: its files are closed, so a thread given its id
        later is read anew)."""
        fds = self._open_fds.get(native_id) or self._opened(native_id)
        if fds is None:
            return None
        call = self._text(fds[0]) if fds[0] >= 0 else b""
        schedstat = self._text(fds[1])
        if not schedstat:
            self.drop(native_id)
            return None
        return call, schedstat

    def _text(self, fd: int) -> bytes:
        """The file's text from its start (empty when it could not be read)."""
        size = self._pread(fd, self._buffer, 127, 0)  # a schedstat line: three integers
        return self._buffer.raw[:size] if size > 0 else b""

    def _opened(self, native_id: int) -> tuple[int, int] | None:
        """Open thread ``native_id``'s files: (``syscall``'s, -1 where it cannot be opened,
        ``schedstat``'s), or None without a schedstat."""
        schedstat = self._open(b"/proc/self/task/%d/schedstat" % native_id, _FLAGS)
        if schedstat < 0:
            return None
        fds = (self._open(b"/proc/self/task/%d/syscall" % native_id, _FLAGS), schedstat)
        for fd in fds:
            if fd >= 0:
                self._identity[fd] = _identity(fd)
        self._open_fds[native_id] = fds
        return fds

    def keep_only(self, native_ids: set[int]) -> None:
        """Close the files of every thread but ``native_ids`` (their loops are closed)."""
        for native_id in [n for n in self._open_fds if n not in native_ids]:
            self.drop(native_id)

    def drop(self, native_id: int) -> None:
        """Close the files of thread ``native_id``, if open."""
        for fd in self._open_fds.pop(native_id, ()):
            if fd >= 0 and self._identity.pop(fd, None) == _identity(fd):
                self._close(fd)

    def close(self) -> None:
        """Close every file (the watchdog stops, or this is a forked child)."""
        for native_id in list(self._open_fds):
            self.drop(native_id)


def _identity(fd: int) -> tuple[int, int] | None:
    """(device, inode) of the file open as ``fd``; None when none is."""
    try:
        stat = os.fstat(fd)
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


def _gil_holding_files() -> _Files | None:
    """The reader of the loop threads' /proc files (``_Files``); None where there is none."""
    if _FUTEX is None:
        return None
    try:
        import ctypes

        libc = ctypes.PyDLL(None)
        c_open, c_pread, c_close = libc.open, libc.pread, libc.close
    except (ImportError, OSError, AttributeError):
        return None
    c_open.argtypes, c_open.restype = [ctypes.c_char_p, ctypes.c_int], ctypes.c_int
    c_pread.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_long]
    c_pread.restype = ctypes.c_ssize_t
    c_close.argtypes, c_close.restype = [ctypes.c_int], ctypes.c_int
    return _Files(c_open, c_pread, c_close)


READ = _gil_holding_files()


def in_lock_wait(text: bytes | None) -> bool | None:
    """Whether the thread whose ``syscall`` file read ``text`` waits on a lock (True) or sits
    in another system call, a sleep or I/O (False); None where unknown, or while it is on a
    CPU (in C code that let the GIL go)."""
    if not text:
        return None
    call = text.split(None, 1)[0]
    if call == b"running":
        return None
    return call == _FUTEX


def _schedstat(text: bytes | None) -> tuple[int, int] | None:
    """(CPU, run-queue wait) in ns from a schedstat line, or None."""
    fields = text.split() if text else ()
    if len(fields) < 2:
        return None
    try:
        return int(fields[0]), int(fields[1])
    except ValueError:
        return None


def look(native_id: int) -> Look | None:
    """The watchdog's look at thread ``native_id`` of this process; None off Linux.

    The time first, then the system call, then schedstat: a run-queue wait the count misses
    (one under way as it is read) began after the system call was read, so after ``t``.
    """
    if READ is None:
        return None
    t = time.monotonic_ns()
    texts = READ.read(native_id)
    if texts is None:
        return None
    stat = _schedstat(texts[1])
    if stat is None:
        return None
    return Look(t, in_lock_wait(texts[0]), stat[1], stat[0], time.process_time_ns())


def keep_files(native_ids: set[int]) -> None:
    """The watchdog no longer looks at threads other than ``native_ids``: close their files."""
    if READ is not None:
        READ.keep_only(native_ids)


def close_files() -> None:
    """The watchdog stops: close every thread's files."""
    if READ is not None:
        READ.close()


class KernelView:
    """What the kernel says of a step that blocked (``kernel_view``)."""

    __slots__ = ("descheduled_ns", "others_cpu_ns")

    def __init__(self, descheduled_ns: int, others_cpu_ns: int) -> None:
        self.descheduled_ns = descheduled_ns
        """The loop thread's run-queue wait during the step, ns, at least."""
        self.others_cpu_ns = others_cpu_ns
        """The CPU the process's other threads used during the step, ns: their rate from the
        look to the step's end, times the step's time."""


def kernel_view(
    state: LoopState, sample: Sample | None, t0: int, t1: int, cpu_ns: int
) -> KernelView | None:
    """The kernel's view of the step from ``t0`` to ``t1`` (``time.monotonic_ns``) that used
    ``cpu_ns`` of CPU and just ended, blocked, on ``state``'s loop thread (the caller); None
    off Linux or without a look of the watchdog's to compare with.

    ``sample`` is the watchdog's record of this step, if it saw it. The run-queue wait is a
    bound from below: the waits counted since a settled look taken before the step, less the
    time outside the step (a wait there was no longer than that); or the waits counted since
    the first look inside the step (every wait under way then began inside it). The kernel
    counts a wait when it ends, so the loop thread, on a CPU now, has all of its own counted:
    this reads its count first and the time after it.
    """
    if READ is None:
        return None
    try:
        with open(f"/proc/self/task/{state.native_id}/schedstat", "rb") as file:
            stat = _schedstat(file.read(127))
    except OSError:
        return None
    if stat is None:
        return None
    process_cpu, thread_cpu = time.process_time_ns(), time.thread_time_ns()
    now = time.monotonic_ns()
    before = sample.before if sample is not None else state.settled
    if before is not None and before.t > t0:
        before = None
    first = sample.first if sample is not None else None
    if first is not None and not t0 <= first.t <= now:
        first = None
    anchor = before or first
    if anchor is None or now <= anchor.t:
        return None
    run_delay = stat[1]
    bound = 0
    if before is not None:
        bound = run_delay - before.run_delay - (t0 - before.t)
    if first is not None:
        bound = max(bound, run_delay - first.run_delay)
    descheduled = max(0, min(bound - (now - t1), t1 - t0 - cpu_ns))
    others = (process_cpu - anchor.process_cpu) - (thread_cpu - anchor.thread_cpu)
    return KernelView(descheduled, max(0, others) * (t1 - t0) // (now - anchor.t))


def contention(
    sample: Sample | Outside | None,
    dur: int,
    cpu_ns: int,
    others_cpu_ns: int,
    block_ns: int,
    descheduled_ns: int | None = None,
) -> dict[str, Any]:
    """``loop.blocked`` data on whether a step of ``dur`` ns that used ``cpu_ns`` on the CPU,
    while the process's other threads used ``others_cpu_ns``, held the loop by its own work.

    ``others_busy``: the other threads' CPU per ns of the step (0 to the number of cores).
    ``starved``, only when the watchdog's samples could look at the thread's kernel wait:
    true when its own CPU stayed under the block threshold (alone, it would not have blocked)
    and under half the step, every sample found it in a lock wait (the GIL, or a lock another
    thread held) and the others computed for a quarter of the step at least (on a busy machine
    the thread holding the GIL may itself wait for a core). A sample in a sleep or I/O is a
    blocking call of its own: a ``time.sleep`` beside busy threads, then a wait for the GIL,
    is its own block.

    With ``descheduled_ns`` (the kernel's run-queue wait of the step, Linux) it is said as
    ``descheduled_ns``, and the step is ``starved`` too when the rest of it, its own time,
    stayed under the threshold and under half the step: it mostly waited for a CPU, and on
    an idle machine it would not have blocked.
    """
    busy = round(max(0, others_cpu_ns) / dur, 2)
    data: dict[str, Any] = {"others_busy": busy}
    if sample is not None and sample.checked:
        waited = sample.lock_waits == sample.checked
        data["starved"] = cpu_ns < block_ns and cpu_ns * 2 < dur and waited and busy >= 0.25
    if descheduled_ns is not None:
        data["descheduled_ns"] = descheduled_ns
        own = dur - descheduled_ns
        data["starved"] = data.get("starved") or (own < block_ns and own * 2 < dur)
    return data
