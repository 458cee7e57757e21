"""``recycling`` reads which workers were recycled from the marks' times, which come from the
kernel's coarse clock: marks made within one tick have the same time."""

from __future__ import annotations

import os
from pathlib import Path

from tracer.servers.real.worker_ends import recycling


def _mark(folder: Path, name: str, t_ns: int) -> None:
    path = folder / name
    path.write_text("")
    os.utime(path, ns=(t_ns, t_ns))


def test_a_worker_that_loaded_served_its_limit_and_ended_in_one_tick_does_not_follow_itself(
    tmp_path: Path,
) -> None:
    """Worker 11 is killed, 12 replaces it, serves its --max-requests 2 and ends, all within
    one tick of the clock (its .ready and .done equally old): it reached its limit, it was not
    recycled into itself."""
    _mark(tmp_path, "11.ready", 1_000)
    _mark(tmp_path, "12.ready", 5_000)
    _mark(tmp_path, "12.done", 5_000)
    ends = recycling(tmp_path, None, expected=1, limit=2, served={12: 2})
    assert (ends.recycled, ends.died, ends.reached) == (0, 1, 1)


def test_a_new_worker_loaded_in_the_tick_its_predecessor_ended_follows_it(tmp_path: Path) -> None:
    """Worker 11 ends at its limit and 12 loads the app in the same tick: 12 was started in its
    place (recycled), and none died."""
    _mark(tmp_path, "11.ready", 1_000)
    _mark(tmp_path, "11.done", 5_000)
    _mark(tmp_path, "12.ready", 5_000)
    ends = recycling(tmp_path, None, expected=1, limit=2, served={11: 2, 12: 1})
    assert (ends.recycled, ends.died, ends.reached) == (1, 0, 0)


def test_each_ended_worker_is_followed_once(tmp_path: Path) -> None:
    """Two workers at their limit, two new ones: each new one follows a different one."""
    _mark(tmp_path, "1.ready", 100)
    _mark(tmp_path, "2.ready", 100)
    _mark(tmp_path, "1.done", 200)
    _mark(tmp_path, "2.done", 300)
    _mark(tmp_path, "3.ready", 250)
    _mark(tmp_path, "4.ready", 350)
    ends = recycling(tmp_path, None, expected=2, limit=1, served={1: 1, 2: 1})
    assert (ends.recycled, ends.died, ends.reached) == (2, 0, 0)
