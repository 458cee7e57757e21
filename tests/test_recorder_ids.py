"""Request ids: one numbering, ``pid x 10^6 + n``, for every process of a run.

A recorder numbers its requests 1, 2, ...; a process numbering its own apart from them (a
child forked from a recorder's process, a real server's process) starts at
``pid x 10^6 + 1``. The ids are spelled out here rather than computed with
``tracer.recorder.first_request_id``, so that the tests state the rule itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tracer.recorder import Recorder

needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")

_FORK_AND_ASK = """
pid = os.fork()
if pid == 0:
    os._exit(0 if rec.new_request_id() == os.getpid() * 10**6 + 1 else 3)
code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
rec.close()
print(first, code)
"""


def _python(code: str, *args: str) -> list[str]:
    """What ``code`` prints, run by a Python of its own (a fork inside pytest would copy it)."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_a_recorder_numbers_its_requests_from_one() -> None:
    """The client's ids and an in-process run's: 1, 2, 3."""
    rec = Recorder()
    assert [rec.new_request_id() for _ in range(3)] == [1, 2, 3]
    rec.close()


@needs_fork
def test_a_child_forked_from_a_recorders_process_numbers_its_own_range() -> None:
    """A fork after the parent took ids: the child's first id is its pid x 10^6 + 1."""
    said = _python(
        "import os\nfrom tracer.recorder import Recorder\nrec = Recorder()\n"
        "first = [rec.new_request_id(), rec.new_request_id()] == [1, 2]\n" + _FORK_AND_ASK
    )
    assert said == ["True", "0"]


@needs_fork
def test_a_child_forked_from_a_real_server_process_numbers_its_own_range(tmp_path: Path) -> None:
    """A real server's process numbers what it makes up itself (lifespan, requests without the
    client's header) from its pid x 10^6 + 1; a process forked from it (an app forking a worker
    that serves) numbers from its own pid, as a plain recorder's child does, not in the range
    of the process it was forked from, where its ids would meet that process's."""
    said = _python(
        "import os, sys\n"
        "from tracer.servers.real.bootstrap import ProcessRecorder\n"
        "rec = ProcessRecorder(sys.argv[1], start_ns=0)\n"
        "first = rec.new_request_id() == os.getpid() * 10**6 + 1\n" + _FORK_AND_ASK,
        str(tmp_path / "server.events"),
    )
    assert said == ["True", "0"]
