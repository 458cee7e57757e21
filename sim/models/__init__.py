"""Server concurrency models, keyed by the names ``trace run --server`` and ``trace sim --model`` share.

Each model takes requests (``submit``) at their arrival time, schedules their phases on the
engine, emits events through the emitter when one is given, and calls ``done(req)`` when the
request has ended. Imports only ``sim`` modules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from sim.models.loop import LoopModel
from sim.models.wsgi import ProcessesModel, ThreadsModel, WsgiOnLoopModel

if TYPE_CHECKING:
    from sim.arrivals import Request
    from sim.config import SimConfig
    from sim.emit import Emitter
    from sim.engine import Engine

__all__ = ["ServerModel", "ModelFactory", "MODELS"]


class ServerModel(Protocol):
    """What the simulation needs of a server model."""

    interface: str
    """``"wsgi"`` or ``"asgi"``: what kind of app the model serves."""

    def submit(self, req: Request) -> None:
        """A request arrives now."""
        ...

    def server_header(self) -> dict[str, Any]:
        """The ``server`` field of the recording header (model, threads, workers, ...)."""
        ...


ModelFactory = Callable[
    ["Engine", "SimConfig", "Emitter | None", Callable[["Request"], Any]], ServerModel
]

MODELS: dict[str, ModelFactory] = {
    "threads": ThreadsModel,
    "processes": ProcessesModel,
    "loop": LoopModel,
    "wsgi-on-loop": WsgiOnLoopModel,
}
"""Model name (the CLI choice) -> its class."""
