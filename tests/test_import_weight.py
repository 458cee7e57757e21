"""What importing a part of the tool loads: an exporter, or the demos package, does not bring in
the runner, the server models and the simulator with it; nor does a command that has no use for
them (``sys.modules`` of a new Python).

tests/test_architecture.py checks each module's own imports; these check what they pull in.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("tracer.run", "tracer.servers", "tracer.loadgen", "tracer.demos.runner", "sim")
"""Packages a timeline export has no use for (``trace run`` and ``trace sim``'s machinery)."""

_EXPORT = """
import io, sys
import tracer.export.{kind} as exporter
from tracer import events as K
from tracer.events import Event
from tracer.export import ExportOptions
from tracer.recording import Recording

header = {{"format": "gateway-trace", "version": 1, "source": "simulated"{demo}}}
events = [
    Event(0, 0, K.REQUEST_START, 1, data={{"scope_type": "http", "method": "GET", "path": "/"}}),
    Event(1, 1_000_000, K.REQUEST_END, 1, data={{"status": 200, "error": None}}),
]
exporter.export_{kind}(Recording(header=header, events=events), ExportOptions(output="-", stdout=io.StringIO()))
print(" ".join(sorted(sys.modules)))
"""


def _loaded(code: str) -> list[str]:
    """The modules of ours and the simulator's that ``code`` left loaded, run by a Python of
    its own."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    names = done.stdout.split()
    return [name for name in names if name.split(".")[0] in ("tracer", "sim")]


def _heavy(modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)]


@pytest.mark.parametrize("kind", ["html", "svg"])
def test_exporting_a_recording_loads_no_runner_servers_or_simulator(kind: str) -> None:
    """``trace export --to html|svg`` of a recording that no demo made."""
    assert _heavy(_loaded(_EXPORT.format(kind=kind, demo=""))) == []


@pytest.mark.parametrize("kind", ["html", "svg"])
def test_exporting_a_demos_recording_loads_no_runner_servers_or_simulator(kind: str) -> None:
    """``trace export --to html|svg`` of a demo's recording: its texts come from the scenario
    (``tracer.demos.language``), its runs are not needed."""
    demo = ', "demo": {"name": "sync-vs-async", "side": 1}'
    assert _heavy(_loaded(_EXPORT.format(kind=kind, demo=demo))) == []


_COMMAND = """
import sys
from tracer.cli import main
try:
    main([{argv}])
except SystemExit:
    pass
print(" ".join(sorted(sys.modules)))
"""


@pytest.mark.parametrize(
    "argv",
    [
        "'replay', '--help'",
        "'export', '--help'",
        "'summary', '--help'",
        "'summary', '/nonexistent/recording.jsonl'",
    ],
)
def test_a_command_that_reads_a_recording_loads_no_server_model(argv: str) -> None:
    """Every command's parser is built at ``trace``'s start, ``run``'s too: its ``--server``
    help must not import the server models (nor the load generator) for ``replay``,
    ``export`` or ``summary``."""
    loaded = _loaded(_COMMAND.format(argv=argv))
    assert [
        m for m in loaded if m.split(".")[:2] in (["tracer", "servers"], ["tracer", "loadgen"])
    ] == []


def test_the_run_help_lists_every_server_model(capsys: pytest.CaptureFixture[str]) -> None:
    """``trace run --help`` names the choices without importing the registry: they are its
    keys, in its order."""
    from tracer.cli import main
    from tracer.cli.run import SERVER_CHOICES
    from tracer.servers import SERVER_MODELS

    assert SERVER_CHOICES == tuple(SERVER_MODELS)
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    said = " ".join(capsys.readouterr().out.split())
    assert f"server model: {', '.join(SERVER_MODELS)} (default:" in said
