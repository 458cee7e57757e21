"""The import rules of DESIGN.md, and ``__all__`` on every public module, enforced."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# The spine: these modules may import only each other (events: nothing at all).
SPINE = {
    "tracer.events": set(),
    "tracer.ws_close": set(),
    "tracer.errors": set(),
    "tracer._version": set(),
    "tracer.gc_pause": set(),
    "tracer.reading": {"tracer.events", "tracer.errors"},
    "tracer.cores": set(),
    "tracer.recording": {
        "tracer.events",
        "tracer.errors",
        "tracer._version",
        "tracer.gc_pause",
        "tracer.reading",
        "tracer.cores",
    },
    "tracer.recorder_args": {"tracer.errors", "tracer.recording"},
    "tracer.recorder_file": {"tracer.events", "tracer.recording"},
    "tracer.recorder_fork": {"tracer.recorder", "tracer.recorder_file"},
    "tracer.recorder": {
        "tracer.events",
        "tracer.errors",
        "tracer.recording",
        "tracer.recorder_args",
        "tracer.recorder_file",
        "tracer.recorder_fork",
        "tracer._version",
    },
    "tracer.stats": set(),
    "tracer.request_span": {"tracer.events"},
    "tracer.span_tally": {"tracer.request_span", "tracer.stats"},
    "tracer.summary": {
        "tracer.events",
        "tracer.recording",
        "tracer.errors",
        "tracer.request_span",
        "tracer.span_tally",
        "tracer.stats",
    },
    "tracer.phases": {"tracer.events"},
    "tracer.span_rows": {"tracer.summary"},
    "tracer.routes": {"tracer.request_span", "tracer.stats"},
    "tracer.place_delays": {"tracer.events", "tracer.phases"},
    "tracer.digest": {
        "tracer.events",
        "tracer.gc_pause",
        "tracer.reading",
        "tracer.recording",
        "tracer.summary",
        "tracer.span_rows",
        "tracer.routes",
        "tracer.place_delays",
    },
}

# Package prefix -> prefixes it must never import.
FORBIDDEN = {
    "tracer.shim": (
        "tracer.tui",
        "tracer.export",
        "tracer.otel",
        "tracer.cli",
        "tracer.servers",
        "sim",
    ),
    "tracer.servers": ("tracer.tui", "tracer.export", "tracer.otel", "tracer.cli", "sim"),
    "tracer.tui": ("tracer.shim", "tracer.servers", "tracer.loadgen"),
    "tracer.export": ("tracer.shim", "tracer.servers", "tracer.tui", "tracer.cli"),
}

SIM_ALLOWED = (
    "sim",
    "tracer.events",
    "tracer.reading",
    "tracer.recording",
    "tracer.recorder",
    "tracer.recorder_args",
    "tracer.recorder_file",
    "tracer.recorder_fork",
    "tracer.errors",
    "tracer.toml_file",
    "tracer.summary",
    "tracer._version",
    "tracer.gc_pause",
)


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in ("tracer", "sim"):
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _our_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return {name for name in names if name.split(".")[0] in ("tracer", "sim")}


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


@pytest.mark.parametrize("module,path", sorted(_modules().items()))
def test_import_rules(module: str, path: Path) -> None:
    """Data flows one way: spine <- shims/servers <- exporters/TUI <- CLI; sim sees the spine."""
    imports = _our_imports(path)
    if module in SPINE:
        assert imports <= SPINE[module], f"{module} imports {imports - SPINE[module]}"
    for prefix, forbidden in FORBIDDEN.items():
        if _within(module, prefix):
            bad = {name for name in imports if any(_within(name, f) for f in forbidden)}
            assert not bad, f"{module} must not import {bad}"
    if _within(module, "sim"):
        bad = {name for name in imports if not any(_within(name, a) for a in SIM_ALLOWED)}
        assert not bad, f"sim module {module} imports {bad}"


def test_every_public_module_declares_all() -> None:
    """Each public module of tracer and sim says what it exports, and exports only real names."""
    for package_name in ("tracer", "sim"):
        package = importlib.import_module(package_name)
        for info in pkgutil.walk_packages(package.__path__, package_name + "."):
            if any(part.startswith("_") for part in info.name.split(".")) or ".tests" in info.name:
                continue
            if info.name in ("tracer.__main__",) or info.name.endswith("__main__"):
                continue
            module = importlib.import_module(info.name)
            assert hasattr(module, "__all__"), f"{info.name} has no __all__"
            for name in module.__all__:
                assert hasattr(module, name), f"{info.name}.__all__ names missing {name!r}"


def _in_a_new_python(code: str) -> str:
    """What ``code`` prints, run by a Python of its own (nothing imported yet)."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_importing_the_cli_loads_only_the_version_and_errors() -> None:
    """The console script imports ``tracer.cli`` before ``main`` can catch a Ctrl-C; it used
    to load the recorder, the recording, asyncio and inspect (through ``tracer``), about 50 ms
    where a Ctrl-C was a traceback. Those load with the commands now, inside ``main``."""
    loaded = _in_a_new_python(
        "import sys\nimport tracer.cli\nprint(' '.join(sorted(sys.modules)))\n"
    ).split()
    ours = sorted(name for name in loaded if _within(name, "tracer"))
    assert ours == ["tracer", "tracer._version", "tracer.cli", "tracer.errors"]
    for heavy in ("asyncio", "inspect", "difflib", "argparse"):
        assert heavy not in loaded


def test_the_public_api_loads_on_first_use() -> None:
    """``tracer.Recorder``, ``from tracer import load`` and the rest are the objects of the
    modules that define them, imported when first asked for; ``dir`` and ``__all__`` list
    them before that, and a name that is not there is still an AttributeError."""
    said = _in_a_new_python(
        "import sys\n"
        "import tracer\n"
        "print('tracer.recorder' in sys.modules)\n"
        "print(sorted(set(tracer.__all__) - set(dir(tracer))))\n"
        "from tracer import Event, Recorder, Recording, load, summarize\n"
        "import tracer.events, tracer.recorder, tracer.recording, tracer.summary\n"
        "print(Event is tracer.events.Event, Recorder is tracer.recorder.Recorder,\n"
        "      Recording is tracer.recording.Recording, load is tracer.recording.load,\n"
        "      summarize is tracer.summary.summarize, tracer.Recorder is Recorder)\n"
        "try:\n"
        "    tracer.Recorderr\n"
        "except AttributeError as exc:\n"
        "    print(exc)\n"
    )
    assert said.splitlines() == [
        "False",
        "[]",
        "True True True True True True",
        "module 'tracer' has no attribute 'Recorderr'",
    ]
