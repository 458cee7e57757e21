"""Running one real server for a test: start, load, stop by pid, check nothing is left."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracer import events as K
from tracer.client import ClientConfig, ClientStats
from tracer.events import Event
from tracer.recorder import Recorder
from tracer.servers import ServerConfig, server_model
from tracer.servers.real.harness import group_members
from tracer.servers.real.server import RealServer

__all__ = ["HERE", "Run", "run_real", "in_flight_max", "alive"]

HERE = str(Path(__file__).resolve().parent)
ROOT = str(Path(__file__).resolve().parents[3])


@dataclass
class Run:
    """What one run left: the merged events, the client's stats, the server's pids."""

    events: list[Event]
    stats: ClientStats
    server: RealServer
    pids: set[int] = field(default_factory=set)

    def kinds(self, kind: str) -> list[Event]:
        """Events of one kind, in time order."""
        return [e for e in self.events if e.kind == kind]

    def client_reqs(self) -> set[int]:
        """Ids of the requests the client sent."""
        return {e.req for e in self.kinds(K.CLIENT_SEND) if e.req is not None}


def alive(pid: int) -> bool:
    """Whether a process (not a zombie) with this pid exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and ") Z " not in stat.read_text()


def run_real(
    name: str,
    spec: str,
    load: ClientConfig,
    *,
    app_dir: str = ROOT,
    workers: int | None = None,
    threads: int | None = None,
    app: Any = None,
    stop_timeout: float = 5.0,
    **options: Any,
) -> Run:
    """Run ``load`` against the real server ``name`` serving ``spec``; stop it whatever happens
    (killing it after ``stop_timeout`` seconds) and assert that no process of its group
    survives."""
    recorder = Recorder()
    config = ServerConfig(
        app_spec=spec, app=app, app_dir=app_dir, workers=workers, threads=threads, options=options
    )
    server = server_model(name)(config, recorder)
    assert isinstance(server, RealServer)
    try:
        server.start()
        stats = server.run_load(load)
    finally:
        server.stop(timeout=stop_timeout)
        pgid = server.process.pgid if server.process is not None else None
        if pgid is not None:
            assert group_members(pgid) == [], "server processes left behind"
            assert not alive(pgid)
    return Run(recorder.recording().events, stats, server, server.pids)


def in_flight_max(events: list[Event], pid: int | None = None) -> int:
    """The most requests between request.start and request.end at once (in one process)."""
    edges: list[tuple[int, int]] = []
    for event in events:
        if event.kind in (K.REQUEST_START, K.REQUEST_END) and (pid is None or event.pid == pid):
            if event.data.get("scope_type") == "lifespan" or event.req is None:
                continue
            if event.req > 10**6:  # a process's own ids: lifespan and friends
                continue
            edges.append((event.t, 1 if event.kind == K.REQUEST_START else -1))
    depth = best = 0
    for _, step in sorted(edges, key=lambda edge: (edge[0], edge[1])):
        depth += step
        best = max(best, depth)
    return best
