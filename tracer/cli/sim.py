"""``trace sim``: simulate a server model under a workload; record, summarise, replay or sweep.

Thin: parse into a ``SimConfig``, call ``sim.simulate`` (or ``sim.sweep.sweep``), then print.
The replay UI (Textual) is imported only when it is about to open.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from typing import Any

from tracer.cli.encoding import ui_shown
from tracer.cli.parsing import bounded, parse_duration
from tracer.cli.terminal import on_terminal
from tracer.errors import UsageError

__all__ = [
    "add_parser",
    "main",
    "build_config",
    "default_record_path",
    "refuse_inapplicable",
    "refuse_with_sweep",
    "sweep_axes",
    "APPLIES",
    "SWEPT_FLAGS",
]

MODELS = ("threads", "processes", "loop", "wsgi-on-loop")
REPORT_EVENTS_MAX = 500_000
"""Past this many events the summary table is printed without reading the recording back (and
``--json`` goes without ``loop_blocked_places``)."""
NOT_MEASURABLE = "n/a (zero time)"
"""A throughput the summary gives as None: every request ended the instant the first arrived."""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``sim`` sub-command."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "sim",
        help="simulate a server concurrency model (same recordings as real runs)",
        description="Discrete-event simulation of how a server schedules requests. "
        "DIST: 100ms, fixed:100ms, exp:100ms (mean), uniform:50ms..150ms, "
        "lognormal:100ms,0.5 (100ms is the mean, not the median; 0.5: sigma of the log).",
    )
    parser.add_argument(
        "--model", choices=MODELS, default="threads", help="server model (default threads)"
    )
    # Defaults of the model-specific options are None so that one given to a model it does
    # not apply to can be refused (``refuse_inapplicable``); ``build_config`` fills them in.
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        metavar="N",
        help="threads per process (threads, processes; default 4 on threads, 1 on processes, "
        "as trace run; at most 4194304, Linux's "
        "most: a thread is made only when a request needs one)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="processes (processes: gunicorn's workers, workers x threads at most 4194304; "
        "loop: uvicorn's --workers, each its own loop, thread pool and GIL, a new connection "
        "going to the loop not running a step with the fewest, and a -c client's requests all "
        "to the loop that accepted its connection; the simulation spreads connections evenly "
        "while the kernel may not, so a real run can be slower; workers x pool-size at most "
        "4194304; default 1)",
    )
    parser.add_argument(
        "--connection-limit",
        type=_connection_limit,
        default=None,
        metavar="N|none",
        help="connections the server takes at once (threads, which stands for waitress: "
        "default 100, waitress's own, of which its listening socket and wake-up pipe take two; "
        "a client past it waits unaccepted; none: no limit)",
    )
    parser.add_argument(
        "--pool-size",
        type=int,
        default=None,
        metavar="N",
        help="thread pool tokens behind each loop (loop; default 40, as anyio; at most 4194304)",
    )
    parser.add_argument(
        "--cpus",
        # sim.cores.MAX_CPUS, written out: importing sim to read it would slow every trace
        # command's start (a test keeps the two equal).
        type=bounded(int, low=1, high=8192),
        default=None,
        metavar="N",
        help="cores of the simulated machine, shared by the threads of all processes "
        "(default: unlimited; only processes and loop with more workers than N slow down)",
    )
    load = parser.add_mutually_exclusive_group()
    load.add_argument(
        "-c",
        "--concurrency",
        type=int,
        default=None,
        metavar="N",
        help="closed loop: N clients (default 10; at most 1048576)",
    )
    load.add_argument(
        "--rate",
        type=bounded(float, above=0.0),
        default=None,
        metavar="R",
        help="open loop: Poisson arrivals per second",
    )
    stop = parser.add_mutually_exclusive_group()
    stop.add_argument(
        "-n",
        "--requests",
        type=int,
        default=None,
        metavar="N",
        # sim.config.MAX_REQUESTS and MAX_RECORDED_REQUESTS, written out (see --cpus).
        help="requests to send (default 1000; at most 10000000, 1000000 when recording: "
        "a request takes about 350 bytes of memory, and 1.3 KB of file when recorded)",
    )
    stop.add_argument(
        "-z",
        "--duration",
        default=None,
        metavar="D",
        help="simulated time to keep sending: 10s, 500ms, 2m (a plain number is seconds; "
        "its requests count towards -n's most: a run sure to pass it is refused at once, "
        "one on course to pass it stops early)",
    )
    parser.add_argument(
        "--think", default=None, metavar="DIST", help="closed loop: client pause between requests"
    )
    for flag, help_text in (
        ("--cpu", "CPU time per request (holds the GIL, and the loop)"),
        ("--io", "I/O wait per request (default 100ms when no work is given)"),
        ("--blocking-io", "a blocking wait inside an async handler"),
    ):
        parser.add_argument(flag, default=None, metavar="DIST", help=help_text)
    parser.add_argument(
        "--workload",
        default=None,
        metavar="FILE|NAME",
        help="a workload TOML file (routes of phases), or a bundled one: blocking, cpu_bound, mixed",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        metavar="N",
        help="random seed (default 0): same seed, same events",
    )
    parser.add_argument(
        "--block-threshold-ms",
        "--block-threshold",  # trace run's spelling
        dest="block_threshold_ms",
        type=bounded(float, above=0.0),  # one rule with trace run and trace replay
        default=None,
        metavar="MS",
        help="loop.blocked threshold in ms (loop; default 10)",
    )
    record = parser.add_mutually_exclusive_group()
    record.add_argument(
        "--record",
        default=None,
        metavar="FILE",
        help="where to write the recording (default traces/sim-<model>-<time>.jsonl)",
    )
    record.add_argument("--no-record", action="store_true", help="write no recording (fastest)")
    parser.add_argument(
        "--label",
        default=None,
        metavar="TEXT",
        help="the recording's name, which the replay and exports show as its title, as a "
        'demo names its sides (e.g. "uvicorn, 4 workers"; at most 100 characters)',
    )
    parser.add_argument(
        "--headless", action="store_true", help="print the summary instead of opening the UI"
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON only")
    parser.add_argument(
        "--sweep",
        action=_SweepOption,
        default=None,
        metavar="NAME=V1,V2",
        help="(written by _SweepOption.help)",
    )
    return parser


class _SweepOption(argparse.Action):
    """``--sweep``: keeps its texts in order (two make a grid; ``build_config`` refuses a
    third); its help lists the names ``sim.sweep.SWEEPABLE`` takes,
    read from that table only when the help is shown (importing sim at every start of
    ``trace`` would slow every command), so the two cannot drift apart."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        setattr(namespace, self.dest, [*(getattr(namespace, self.dest) or []), values])

    @property  # type: ignore[override]
    def help(self) -> str:
        from sim.sweep import NAMES

        return (
            f"what-if table, one run per value of one of: {', '.join(NAMES)}; "
            "e.g. threads=1,2,4,8,16; given twice, one run per pair of values (workers=2,4 "
            "--sweep threads=2,4,8); records nothing"
        )

    @help.setter
    def help(self, value: str | None) -> None:
        pass  # argparse's own assignment: the property above is the help


def _connection_limit(text: str) -> int:
    """``--connection-limit``: a whole number of connections, or ``none`` (0: no limit)."""
    if text.strip().lower() == "none":
        return 0
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a whole number: give one such as 100, or none for no limit"
        ) from None
    if not 3 <= value <= 4_194_304:
        raise argparse.ArgumentTypeError(
            f"{value} is out of range: give 3 to 4194304 (waitress's listening socket and "
            "wake-up pipe take two), or none for no limit"
        )
    return value


APPLIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "threads": ("--threads", ("threads", "processes")),
    "workers": ("--workers", ("processes", "loop")),
    "pool_size": ("--pool-size", ("loop",)),
    "connection_limit": ("--connection-limit", ("threads",)),
    "block_threshold_ms": ("--block-threshold-ms", ("loop",)),
}
"""``SimConfig`` field (and ``args`` name) -> its option and the models it changes anything
for: ``wsgi-on-loop`` always has one thread, ``loop`` one loop thread and its pool's tokens per
process, and only a loop's steps can block it."""

DEFAULTS: dict[str, Any] = {
    "threads": None,  # the model's own (sim.config.DEFAULT_THREADS: trace run's)
    "workers": 1,
    "pool_size": 40,
    "connection_limit": 100,  # sim.config.WAITRESS_CONNECTION_LIMIT, as waitress
    "block_threshold_ms": 10.0,
}
"""What the model-specific options are when not given."""


def refuse_inapplicable(
    model: str, given: dict[str, Any], sweep: str | None = None, label: str | None = None
) -> None:
    """``UsageError`` for an option (or a swept setting) the model ignores: a silently
    ignored ``--workers 2`` gives the same rows as none and looks like a finding. ``label``:
    the swept setting as typed (``processes`` for the field ``workers``)."""
    for name, value in given.items():
        flag, models = APPLIES[name]
        if value is not None and model not in models:
            raise UsageError(
                f"{flag} does not apply to --model {model} (only to {', '.join(models)}); "
                "drop it or choose another model."
            )
    if sweep is not None and sweep in APPLIES and model not in APPLIES[sweep][1]:
        flag, models = APPLIES[sweep]
        raise UsageError(
            f"--sweep {label or flag.removeprefix('--')} does not apply to --model {model} "
            f"(only to {', '.join(models)}); sweep another setting or choose another model."
        )


def refuse_with_sweep(args: argparse.Namespace, swept: str, label: str | None = None) -> None:
    """``UsageError`` for an option a ``--sweep`` of the ``SimConfig`` field ``swept`` would
    ignore: the defaults of these options are None, so only one given is refused. ``label``:
    the swept setting as typed (``c`` for the field ``concurrency``)."""
    label = label or swept.replace("_", "-")
    if args.record is not None:
        raise UsageError(
            "--record does not apply to --sweep: a sweep is many runs, one per value, and "
            "records none; drop --record, or record one value without --sweep."
        )
    flag = SWEPT_FLAGS[swept]
    if getattr(args, swept) is not None:
        raise UsageError(
            f"--sweep {label} sets {flag} in every row, so the {flag} given "
            "would be ignored; drop it."
        )
    if swept == "rate":
        if args.concurrency is not None:
            raise UsageError(
                f"--sweep {label} is not allowed with -c/--concurrency: each row is an open loop "
                "at that rate, with no clients; drop -c or sweep concurrency."
            )
        if args.think is not None:
            raise UsageError(
                "--think is for closed-loop clients (-c N); drop it with --sweep rate."
            )
    if swept == "concurrency" and args.rate is not None:
        raise UsageError(
            f"--sweep {label} is not allowed with --rate: each row is a closed loop of that "
            "many clients; drop --rate or sweep rate."
        )


SWEPT_FLAGS: dict[str, str] = {
    "threads": "--threads",
    "workers": "--workers",
    "pool_size": "--pool-size",
    "cpus": "--cpus",
    "concurrency": "-c",
    "rate": "--rate",
}
"""The ``SimConfig`` fields ``sim.sweep.SWEEPABLE`` varies (also the names of their ``args``)
-> their option (a test keeps the two tables equal)."""


def build_config(args: argparse.Namespace) -> Any:
    """The ``SimConfig`` the parsed arguments describe (``UsageError`` on bad values, on an
    option the model does not use, or on one the sweep would ignore)."""
    chosen = {name: getattr(args, name) for name in APPLIES}
    refuse_inapplicable(args.model, chosen)
    for swept, _, label in sweep_axes(args):
        refuse_inapplicable(args.model, {}, swept, label)
        refuse_with_sweep(args, swept, label)
    options = {name: DEFAULTS[name] if value is None else value for name, value in chosen.items()}
    from sim import SimConfig
    from sim.dist import MAX_DURATION_NS, parse_dist
    from sim.workload import inline_workload, load_workload

    inline = {
        "cpu": args.cpu,
        "io": args.io,
        "blocking_io": args.blocking_io,
    }
    given = {key: value for key, value in inline.items() if value is not None}
    if args.workload is not None:
        if given:
            flags = ", ".join("--" + key.replace("_", "-") for key in given)
            raise UsageError(f"Give either --workload or {flags}, not both.")
        workload = load_workload(args.workload)
    else:
        if not given:
            given = {"io": "100ms"}
        workload = inline_workload(
            **{
                key: parse_dist(value, what="--" + key.replace("_", "-"))
                for key, value in given.items()
            }
        )
    # Read as trace run reads it, then in the clock's nanoseconds.
    duration = (
        None
        if args.duration is None
        else min(round(parse_duration(args.duration, "-z") * 1e9), MAX_DURATION_NS)
    )
    requests = args.requests if args.requests is not None or duration is not None else 1000
    if args.think is not None and args.rate is not None:
        # Open-loop arrivals do not wait for responses, so a pause after one would be ignored.
        raise UsageError("--think is for closed-loop clients (-c N); drop it with --rate.")
    block_threshold_ms = options["block_threshold_ms"]
    if block_threshold_ms * 1_000_000 > MAX_DURATION_NS:  # 1e308 would overflow to inf
        raise UsageError(
            f"--block-threshold-ms {block_threshold_ms:g} is too long; "
            "durations go up to about 292 years."
        )
    config = SimConfig(
        model=args.model,
        threads=options["threads"],
        workers=options["workers"],
        pool_size=options["pool_size"],
        # Only the threads model has a limit (refuse_inapplicable refused it for the others).
        connection_limit=(options["connection_limit"] or None if args.model == "threads" else None),
        cpus=args.cpus,
        concurrency=10 if args.concurrency is None else args.concurrency,
        rate=args.rate,
        requests=requests,
        duration_ns=duration,
        think=None if args.think is None else parse_dist(args.think, what="--think"),
        workload=workload,
        seed=args.seed,
        block_threshold_ns=round(block_threshold_ms * 1_000_000),
    )
    # A sweep records nothing (refuse_with_sweep refused --record with it).
    return config.check(recorded=not args.no_record and args.sweep is None)


def sweep_axes(args: argparse.Namespace) -> list[tuple[str, list[Any], str]]:
    """The ``--sweep`` options given, as ``(field, values, label as typed)``: none, one, or
    two (a grid); ``UsageError`` for a third, a setting swept twice, or rate with
    concurrency (an open and a closed loop at once)."""
    from sim.sweep import parse_sweep, typed_name

    texts = args.sweep or []
    if len(texts) > 2:
        raise UsageError(
            f"--sweep is given {len(texts)} times; give it once, or twice for a table of "
            "every pair of values."
        )
    axes = [(*parse_sweep(text), typed_name(text)) for text in texts]
    if len(axes) == 2:
        (first, _, first_label), (second, _, second_label) = axes
        if first == second:
            raise UsageError(
                f"--sweep {first_label} and --sweep {second_label} set the same setting; "
                "give its values in one --sweep."
            )
        if {first, second} == {"rate", "concurrency"}:
            raise UsageError(
                f"--sweep {first_label} and --sweep {second_label} cannot go together: a rate "
                "is an open loop and -c a closed one; sweep one of them."
            )
    return axes


def default_record_path(model: str, *, now: float | None = None) -> str:
    """``traces/sim-<model>-<local time>.jsonl`` under the current directory (``main`` adds
    ``-2``, ``-3``… before the extension when that file exists)."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    return os.path.join("traces", f"sim-{model}-{stamp}.jsonl")


def refuse_shadowed_sim() -> None:
    """One line (``UsageError``) when the ``sim`` package Python finds is not the simulator
    installed beside ``tracer``: a user's own ``sim`` earlier on sys.path (the working folder
    under ``python -m``, PYTHONPATH) would otherwise fail in an import, with a traceback."""
    import importlib.util
    from pathlib import Path

    ours = Path(__file__).resolve().parents[2] / "sim"
    spec = importlib.util.find_spec("sim")
    found = Path(spec.origin).resolve().parent if spec is not None and spec.origin else None
    if found != ours:
        raise UsageError(
            f'The "sim" package Python finds ({found}) is not gateway-tracer\'s simulator '
            f"({ours}): a package of that name comes first on sys.path; run from another "
            "folder or rename it."
        )


def main(args: argparse.Namespace) -> int:
    """Run the simulation (or the sweep) and show its result."""
    from tracer.cli.paths import refuse_empty_record

    refuse_shadowed_sim()

    refuse_empty_record(
        args.record,
        "a file name, not an empty string; leave --record out for the default "
        "traces/sim-<model>-<time>.jsonl.",
    )
    config = build_config(args)
    refuse_label(args)
    if args.sweep is not None:
        return _sweep(config, args)
    from sim import simulate
    from sim.config import TooManyRequests
    from sim.engine import ClockOverflow
    from sim.simulation import SIM_EPOCH_NS
    from tracer.cli.paths import cannot_write, claim_recording, watch_writer
    from tracer.gc_pause import paused_gc
    from tracer.recorder import Recorder

    path = None
    if not args.no_record:
        # Opened before the simulation: an unwritable path is one line and exit 2 up front,
        # and two runs in one second never share a default name.
        if args.record:
            path = claim_recording(args.record).path
        else:
            path = claim_recording(default_record_path(config.model), default=True).path
    recorder = None
    if path is not None:
        # A fixed clock: the header is the same on every run, so same seed -> same file.
        named = {} if args.label is None else {"label": args.label}
        recorder = Recorder(
            path, clock=lambda: 0, wall_clock=lambda: SIM_EPOCH_NS, start_ns=0, **named
        )
    failures = [] if recorder is None else watch_writer(recorder)
    # paused_gc: the writer thread turns millions of events into lines (see paused_gc).
    with paused_gc():
        try:
            result = simulate(config, recorder=recorder)
        except (ClockOverflow, TooManyRequests) as exc:
            if path is None:
                raise
            # The file keeps what was recorded up to then (closed below): say what it is.
            raise UsageError(
                f'{exc} The recording "{path}" ends at that point: the requests in flight then '
                "have no end."
            ) from None
        finally:
            if recorder is not None:
                try:
                    recorder.close()
                except OSError as exc:  # the simulation's own error, if any, is reported
                    failures.append(exc)
    if failures and path is not None:
        raise cannot_write(path, failures[0])
    from sim.capacity import capacity, run_queue_grew

    cap, grew = capacity(config), run_queue_grew(result)
    capacity_line = _capacity_line(config, cap, grew)
    if args.json:
        # The summary's keys only, as ``trace summary --json`` gives them (docs/decisions.md);
        # the busiest resource is the line on stderr below, and a sweep row's ``capacity``.
        print(json.dumps(_for_json(result, path)))
        if capacity_line.endswith(SATURATED_TAIL):  # the figures printed are no steady state
            print(f"trace sim: {capacity_line}", file=sys.stderr)
        if path is not None:
            print(f"recording: {path}", file=sys.stderr)
        return 0
    if path is not None and not args.headless and _can_replay() and _replay(path):
        print(f"recording: {path}")
        return 0
    _print_summary(config, result, path)
    print(capacity_line)
    if path is not None:
        print(f"recording: {path}")
    return 0


MAX_LABEL = 100
"""The longest ``--label``: it is a title, one line above a timeline."""


def refuse_label(args: argparse.Namespace) -> None:
    """``UsageError`` for a ``--label`` that cannot name a recording: empty, not one line of
    printable text, longer than ``MAX_LABEL``, or given to a run that records nothing."""
    label = args.label
    if label is None:
        return
    if not label:
        raise UsageError(
            "--label needs a name, not an empty string; give the name the replay shows for "
            'this recording, like "uvicorn, 4 workers".'
        )
    if not label.isprintable():
        raise UsageError(f"--label must be one line of printable text, not {label!r}.")
    if len(label) > MAX_LABEL:
        raise UsageError(
            f"--label is {len(label)} characters long; give at most {MAX_LABEL} "
            "(it is the recording's title)."
        )
    if args.no_record:
        raise UsageError(
            "--label names the recording, and --no-record writes none; drop one of them."
        )
    if args.sweep is not None:
        raise UsageError("--label names the recording, and --sweep records none; drop --label.")


SATURATED_TAIL = (
    "saturated: the queue grows as long as requests arrive, so the latencies grow with -n or -z "
    "and have no steady value."
)
"""How the capacity line of an open loop past its server's capacity ends."""


def _chosen(key: str, model: str) -> bool:
    """Whether the header's ``server`` field ``key`` is a setting of ``model`` that an option
    sets (``APPLIES``), or one of every model (``cpus``): a loop's ``threads`` (its one loop
    thread) and wsgi-on-loop's ``threads`` and ``workers`` are the model's, set by nobody."""
    if key == "model":
        return False
    applies = APPLIES.get(key)
    return applies is None or model in applies[1]


def _capacity_line(config: Any, cap: Any, grew: bool) -> str:
    """One line: the resource that runs out first, the rate it keeps up with and, for an open
    loop, how loaded it is (``cap``, ``sim.capacity.capacity``: rate x mean time a request
    holds it / count), and whether it is saturated (that, or ``grew``: the run's queue grew,
    ``sim.capacity.run_queue_grew``)."""
    if cap.rps is None:
        return "busiest: none (the requests take no time, so nothing limits the rate)."
    from tracer import figures

    line = f"busiest: {cap.resource} ({cap.units}), keeps up to {_rate(cap.rps, unit=True)}"
    if config.rate is None:
        return line + "."
    # The rate as typed (an option's value); the share as every share is written.
    line += f"; --rate {config.rate:g} uses {figures.percent(cap.load(config.rate))} of it"
    if cap.saturated(config.rate) or grew:
        return f"{line}: {SATURATED_TAIL}"
    return line + "."


def _for_json(result: Any, path: str | None) -> dict[str, Any]:
    """The summary as ``--json`` prints it: the simulator's (``tracer.summarize`` of its
    recording), with the places that blocked the loop (``loop_blocked_places``) as ``trace run
    --json`` and ``trace summary --json`` add them, read from the recording by the digest
    (which counts the requests each place delayed). A run whose loop never blocked reads
    nothing back; one without a recording, or with more events than the report reads back,
    leaves the key out and says so on stderr (the places are then not known)."""
    summary: dict[str, Any] = result.summary
    if result.stats is None or not result.stats.blocked_ns:
        return summary  # no loop.blocked recorded: no place to name
    if path is None:
        print(
            "trace sim: loop_blocked_places left out: --no-record keeps no events to find "
            "the places in; --record FILE keeps them.",
            file=sys.stderr,
        )
        return summary
    if result.events > REPORT_EVENTS_MAX:
        print(
            f"trace sim: loop_blocked_places left out: the recording has {result.events:,} "
            f"events, past the {REPORT_EVENTS_MAX:,} read back here; "
            f"trace summary {shlex.quote(path)} --json reads them all.",
            file=sys.stderr,
        )
        return summary
    from tracer.digest import digest_file

    _, digest = digest_file(path)
    return digest.for_json(summary)


def _can_replay() -> bool:
    """Whether the replay opens: on a terminal (every standard stream) that can show it. One
    whose encoding cannot (``LC_ALL=C``) gets the report instead, and a line saying why."""
    return on_terminal() and ui_shown("printing the report instead")


def _replay(path: str) -> bool:
    try:
        from tracer.tui.app import ReplayApp
    except ImportError:
        return False
    from tracer.recording import load

    app = ReplayApp([load(path)])
    app.run()
    app.hold_until_exit()  # the process ends now: its recording is not freed one by one
    return True


def _print_summary(config: Any, result: Any, path: str | None) -> None:
    # The full report reads the recording back: worth it up to a few hundred thousand events.
    if path is not None and result.events <= REPORT_EVENTS_MAX:
        try:
            from tracer.report import print_report
        except ImportError:
            pass
        else:
            from tracer.recording import load

            print_report(load(path), result.summary)
            return
    from rich.table import Table

    summary = result.summary
    server = result.header.get("server", {})
    title = " ".join(
        [f"sim:{config.workload.name} · {config.model}"]
        + [f"{key}={value}" for key, value in server.items() if _chosen(key, config.model)]
    )
    table = Table(title=title + " (simulated time)")
    table.add_column("metric")
    table.add_column("value", justify="right")
    # Each figure as the report writes it (tracer.figures), the wall time too.
    from tracer import figures

    completed, requests = summary["completed"], summary["requests"]
    table.add_row("requests", f"{figures.count(completed)} / {figures.count(requests)}")
    table.add_row("simulated time", f"{summary['wall_s']:.3f} s")
    table.add_row("throughput", _rate(summary["rps"], unit=True))
    for key, value in summary["latency_ms"].items():
        table.add_row(f"latency {key}", f"{figures.ms(value)} ms")
    for key, value in summary["queue_ms"].items():
        table.add_row(f"queue {key}", f"{figures.ms(value)} ms")
    table.add_row("max in flight", figures.count(summary["max_in_flight"]))
    table.add_row("loop blocked", f"{figures.ms(summary['loop_blocked_ms'])} ms")
    waits = summary.get("thread_pool_wait_ms")  # only when work hopped to the thread pool
    if waits:
        from tracer.report import measures

        table.add_row("thread pool hops", figures.count(waits["count"]))
        for key in ("p50", "p99", "max"):  # a percentile only from a sample that measures it
            if key == "max" or measures(key, waits["count"]):
                table.add_row(f"thread pool wait {key}", f"{figures.ms(waits[key])} ms")
    table.add_row("cores", "unlimited" if config.cpus is None else str(config.cpus))
    _print_table(table)


def _sweep(config: Any, args: argparse.Namespace) -> int:
    from sim.sweep import sweep_grid

    axes = sweep_axes(args)
    # The table says what was typed; the JSON keys are the fields.
    label = " x ".join(axis[2] for axis in axes)
    rows = sweep_grid(config, axes)
    if args.json:
        print(json.dumps([row.as_dict() for row in rows]))
        return 0
    from rich.table import Table

    from tracer import figures

    def ms(value: float) -> str:
        # A row's times run from µs to minutes: each in its largest unit, with it.
        return figures.duration(value * 1e6)

    swept = {axis[0] for axis in axes}
    if "cpus" in swept and "workers" in swept:  # each row says both
        cores = ""
    elif "cpus" in swept:  # what the rows' cores are shared by
        processes = config.workers if config.model in ("processes", "loop") else 1
        cores = f" · {processes} {'process' if processes == 1 else 'processes'}"
    else:
        cores = "" if config.cpus is None else f" · {config.cpus} cores"
    table = Table(
        title=f"sim:{config.workload.name} · {config.model}{cores}: sweep of {label} (simulated)"
    )
    open_loop = all(row.open_loop for row in rows)
    for _, _, heading in axes:
        table.add_column(heading, justify="right")
    for heading in (figures.RATE_UNIT, "p50", "p90", "p99", "max", "queued (mean)", "in flight"):
        table.add_column(heading, justify="right")
    if open_loop:
        table.add_column("offered", justify="right")
        table.add_column("drain", justify="right")
    table.add_column("busiest", justify="right")
    table.add_column("keeps up to", justify="right")
    table.caption = _sweep_caption(open_loop, any(row.saturated for row in rows))
    from tracer.report import NONE, measures

    cells: list[list[str]] = []
    for row in rows:
        s = row.summary
        lat = s["latency_ms"]
        grows = row.saturated  # no steady value: each figure grows with -n or -z
        # As the report: a percentile only from the sample that measures it (p99 from 100).
        times = [
            GROWS if grows else ms(lat[key]) if measures(key, s["completed"]) else NONE
            for key in ("p50", "p90", "p99")
        ]
        extra = []
        if open_loop and row.open_loop:
            extra = [_rate(row.open_loop["offered_rps"]), ms(row.open_loop["drain_s"] * 1000)]
        cells.append(
            [
                *(_value(value) for _, value in row.fixed),
                _value(row.value),
                _rate(s["rps"]),
                *times,
                GROWS if grows else ms(lat["max"]),
                GROWS if grows else ms(s["queue_ms"]["mean"]),
                figures.count(s["max_in_flight"]),
                *extra,
                *_capacity_cells(row),
            ]
        )
    # Each column's figures lined up on their decimal point, as the report's (3.1 under
    # 3.13); the busiest resource is words, right-aligned as they are.
    from tracer.report_columns import Figure, aligned

    busiest = len(table.columns) - 2
    columns = [
        list(column) if i == busiest else aligned(column)
        for i, column in enumerate(zip(*cells, strict=True))
    ]
    for line in zip(*columns, strict=True):
        table.add_row(*(cell if i == busiest else Figure(cell) for i, cell in enumerate(line)))
    _print_table(table)
    return 0


GROWS = "grows"
"""A saturated row's latency cell: the queue grows as long as arrivals come, so the figure
measured depends on -n or -z and says nothing about the server."""


def _value(value: Any) -> str:
    """A swept value as a table cell: ``4``, ``0.5``."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def _capacity_cells(row: Any) -> list[str]:
    """The ``busiest`` and ``keeps up to`` cells: the resource that runs out first and how
    loaded it is (an open loop: its offered load; a closed loop: the throughput measured), and
    the rate at which it is full."""
    from tracer.report import NONE  # a figure there is none of, as the report writes it

    cap = row.capacity
    if cap is None or cap.rps is None:
        return [NONE, NONE]
    from tracer import figures

    if row.rate is not None:
        busiest = f"{cap.resource} {figures.percent(row.rate / cap.rps)}"
    elif row.summary["rps"] is None:
        busiest = cap.resource
    else:  # measured: a sample of service times shorter than their mean is no overload
        busiest = f"{cap.resource} {figures.percent(min(row.summary['rps'] / cap.rps, 1.0))}"
    if row.saturated:
        busiest += " saturated"
    return [busiest, _rate(cap.rps, unit=True)]


def _sweep_caption(open_loop: bool, saturated: bool) -> str:
    """What the sweep table's less obvious columns mean."""
    parts = []
    if open_loop:
        # req/s spreads the completed requests over the whole run: a short run against long
        # services spends most of it draining after the last arrival, which is no saturation.
        parts.append(
            "req/s: completed over the whole run, the drain after the last arrival included; "
            "offered: the arrivals' rate (req/s), what a stable open system keeps up with"
        )
    parts.append(
        "busiest: the resource that runs out first (threads, loop, pool, GIL, cores) and its "
        "utilisation, rate x mean time a request holds it / its count; keeps up to: the rate "
        "that fills it"
    )
    if saturated:
        parts.append(
            f"{GROWS}: at 100% or more the queue grows as long as requests arrive, so latencies "
            "grow with -n or -z and have no steady value"
        )
    return "; ".join(parts)


def _rate(value: float | None, *, unit: bool = False) -> str:
    """A rate as every rate is written (``tracer.figures.rate``: ``39.8``, ``1,234.6``), and
    its unit when ``unit``; None (requests that took no simulated time) has no rate."""
    if value is None:
        return NOT_MEASURABLE
    from tracer import figures

    return f"{figures.rate(value)} {figures.RATE_UNIT}" if unit else figures.rate(value)


def _print_table(table: Any) -> None:
    """Print ``table`` on stdout; into a pipe or a file, as wide as it needs to be (rich takes
    80 columns there, which cut a sweep's columns to "queu…" and its figures to "3.26…")."""
    from rich.console import Console

    console = Console()
    if not console.is_terminal:
        # Measured on an unbounded console: measuring on this one stops at its 80 columns.
        needed = Console(width=10_000).measure(table).maximum
        if needed > console.width:
            console = Console(width=needed)
    console.print(table)
