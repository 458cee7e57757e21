"""``trace demo`` of a scenario whose real run needs the ``[frameworks]`` extra, without it.

The bundled FastAPI app failing to import is the package's code, not the user's: one line
naming the extra, exit 2, and no empty ``--record`` folder left behind. FastAPI is made
unimportable in a child process, as in an install without the extra.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

_REPO = Path(__file__).resolve().parents[2]

# Runs the CLI with flask and fastapi missing: a finder ahead of the others answers as the
# import system does for a package that is not installed.
_WITHOUT_FRAMEWORKS = """
import sys

class NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {"fastapi", "flask"}:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NotInstalled())
from tracer.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _trace_without_frameworks(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_REPO), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-c", _WITHOUT_FRAMEWORKS, *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env=env,
    )


def test_a_missing_extra_is_one_line_exit_2_and_no_folder(tmp_path: Path) -> None:
    """The install hint alone (no traceback of sample_apps/fastapi_app.py), and --record's
    folder is not made for a run that never recorded."""
    proc = _trace_without_frameworks(
        tmp_path, "demo", "threadpool-offload", "--headless", "--record", "out"
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "fastapi_app.py" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("trace: error:")]
    assert errors == [
        'trace: error: Importing module "sample_apps.fastapi_app" failed: ModuleNotFoundError: '
        "No module named 'fastapi'. The Flask and FastAPI sample apps need it: "
        'pip install "gateway-tracer[frameworks]"'
    ]
    assert proc.stderr.endswith(errors[0] + "\n")
    assert proc.stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_the_record_folder_is_made_when_the_recordings_are_saved(tmp_path: Path) -> None:
    """A scenario that runs still gets its folder, nested folders included."""
    proc = _trace_without_frameworks(
        tmp_path, "demo", "blocking-call", "--sim", "--headless", "--record", "a/b"
    )
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (tmp_path / "a" / "b").iterdir()) == [
        "blocking-call-1.jsonl",
        "blocking-call-2.jsonl",
    ]
