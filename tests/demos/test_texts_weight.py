"""A scenario's texts cost no runs: reading them (a replay or an export of a demo's recording)
imports neither the runner, the server models nor the simulator; a side makes its runs on
first use, once.

Each import check runs in a Python of its own (``sys.modules`` of this one already holds them).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sim import SimConfig
from tracer.demos import SCENARIOS
from tracer.demos.build import sim_run, workload

HEAVY = ("tracer.run", "tracer.servers", "tracer.loadgen", "tracer.demos.runner", "sim")
"""What only making a scenario's runs needs (as tests/test_import_weight.py)."""

_HEAVY_LOADED = """
import json, sys
HEAVY = {heavy!r}
def heavy():
    return [m for m in sorted(sys.modules) if any(m == h or m.startswith(h + ".") for h in HEAVY)]
"""


def _run(code: str, *argv: str) -> dict:
    """What ``code`` printed as JSON, run by a new Python with the ``heavy()`` helper."""
    done = subprocess.run(
        [sys.executable, "-c", _HEAVY_LOADED.format(heavy=HEAVY) + code, *argv],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_every_scenarios_texts_load_no_runner_servers_or_simulator() -> None:
    """Titles, captions, side names and bookmark texts of every scenario in both languages, and
    a demo recording's texts remade in another language: the runs are never built."""
    said = _run("""
from tracer import events as K
from tracer.demos import LANGS, SCENARIOS
from tracer.demos.language import caption_of, in_language
from tracer.events import Event
from tracer.recording import Recording

texts = {}
for name, scenario in SCENARIOS.items():
    for lang in LANGS:
        for key in scenario.texts["en"]:
            texts[f"{name}/{lang}/{key}"] = scenario.text(lang, key)
        recordings = [
            Recording(
                header={"format": "gateway-trace", "version": 1, "source": "simulated",
                        "demo": {"name": name, "side": side + 1}},
                events=[Event(0, 0, K.MARK, None, data={"key": "title", "label": "x"})],
            )
            for side in range(len(scenario.sides))
        ]
        texts[f"{name}/{lang}/caption_of"] = caption_of(recordings, lang)
        texts[f"{name}/{lang}/label"] = in_language(recordings[0], lang).header["label"]
print(json.dumps({"heavy": heavy(), "texts": texts}))
""")
    assert said["heavy"] == []
    for name, scenario in SCENARIOS.items():
        for lang in ("en", "zh"):
            assert said["texts"][f"{name}/{lang}/caption_of"] == scenario.caption(lang)
            assert said["texts"][f"{name}/{lang}/label"] == scenario.text(lang, "side0")
            for key, text in scenario.texts[lang].items():
                assert said["texts"][f"{name}/{lang}/{key}"] == text


def test_replaying_a_demos_recording_loads_no_runner_servers_or_simulator(
    tmp_path: Path,
) -> None:
    """``trace replay`` of a demo's two recordings (to a screenshot), its captions taken from
    the scenario in the language asked for, never builds the scenario's runs."""
    for side in (1, 2):
        header = {
            "format": "gateway-trace",
            "version": 1,
            "source": "simulated",
            "demo": {"name": "cpu-gil", "side": side, "lang": "en"},
        }
        events = [
            {"seq": 0, "t": 0, "kind": "request.start", "req": 1, "data": {"scope_type": "http"}},
            {"seq": 1, "t": 1_000_000, "kind": "request.end", "req": 1, "data": {"status": 200}},
        ]
        lines = [json.dumps(header), *map(json.dumps, events)]
        (tmp_path / f"cpu-gil-{side}.jsonl").write_text("\n".join(lines) + "\n")
    out = tmp_path / "shot.svg"
    said = _run(
        """
from tracer.cli import build_parser, main
build_parser()
parser = heavy()
code = main(["replay", *sys.argv[1:3], "--screenshot", sys.argv[3], "--lang", "zh"])
print(json.dumps({"code": code, "heavy": heavy(), "parser": parser}))
""",
        str(tmp_path / "cpu-gil-1.jsonl"),
        str(tmp_path / "cpu-gil-2.jsonl"),
        str(out),
    )
    # The command line's parser itself imports tracer.servers (``trace run``'s choices): the
    # replay adds nothing to what it loaded.
    assert said["code"] == 0 and said["heavy"] == said["parser"]
    assert not [m for m in said["heavy"] if m == "sim" or m.startswith(("sim.", "tracer.run"))]
    assert out.read_text().startswith("<svg")


def test_the_scenario_function_stays_the_packages_after_every_submodule_import() -> None:
    """``tracer.demos.scenario`` is a function of the package and a submodule: importing the
    runner (on first use of ``run_demo``) and the submodule again leaves the function."""
    said = _run("""
import tracer.demos
before = heavy()
from tracer.demos import run_demo
import tracer.demos.runner
import tracer.demos.scenario
from tracer.demos import scenario
print(json.dumps({
    "before": before,
    "scenario": scenario("c10k").name,
    "run_demo": run_demo is tracer.demos.runner.run_demo,
    "runner": "tracer.demos.runner" in heavy(),
}))
""")
    assert said == {"before": [], "scenario": "c10k", "run_demo": True, "runner": True}


def test_a_side_makes_its_runs_on_first_use_and_once() -> None:
    """``Side(make)`` calls ``make`` when its runs are first read, and keeps them."""
    from tracer.demos import Runs, Side

    config = sim_run("loop", workload("w", {"io": "5ms"}), c=2, n=4)
    made: list[Runs] = []

    def make() -> Runs:
        made.append(Runs(sim=config))
        return made[-1]

    side = Side(make)
    assert made == []
    assert side.sim is config and side.real is None and side.quick is None
    assert side.config(quick=True) is None and side.config(quick=False) is None
    assert len(made) == 1 and side.runs is made[0]


def test_the_scenarios_runs_are_the_ones_their_tables_give() -> None:
    """The runs made on first use: the simulated model and size, the real app, server and
    quick size of a scenario's side, as its table writes them."""
    threads, processes = SCENARIOS["cpu-gil"].sides
    assert isinstance(processes.sim, SimConfig)
    assert (processes.sim.model, processes.sim.workers, processes.sim.requests) == (
        "processes",
        2,
        40,
    )
    assert threads.real is not None and threads.quick is not None
    assert (threads.real.app, threads.real.server, threads.real.requests) == (
        "sample_apps.cpu_bound:wsgi_app",
        "threads",
        40,
    )
    assert threads.config(quick=True) is threads.quick and threads.quick.requests == 8
    assert [side.real for side in SCENARIOS["c10k"].sides] == [None, None]


def test_the_workloads_are_still_module_constants() -> None:
    """``SYNC_WORK`` and the other workloads, built when named: the ones the sides simulate."""
    from tracer.demos import concurrency, protocols

    offload = SCENARIOS["threadpool-offload"].sides[0].sim.workload
    assert concurrency.SYNC_WORK == offload
    assert protocols.SESSION_WORK == SCENARIOS["websocket"].sides[1].sim.workload
    assert protocols.C10K_WORK == SCENARIOS["c10k"].sides[0].sim.workload
    try:
        concurrency.NO_SUCH_WORK  # noqa: B018
    except AttributeError as error:
        assert "NO_SUCH_WORK" in str(error)
    else:
        raise AssertionError("an unknown name was found")
