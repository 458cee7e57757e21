"""``Scenario``: one lecture demonstration — its texts, its runs, its bookmarks and its shape.

A scenario holds one or two ``Side``s (compared side by side), each runnable for real
(a ``RunConfig`` through an in-process server model, with a reduced ``quick`` variant for
tests) or simulated (a ``SimConfig``, deterministic). A side makes its ``Runs`` on first use,
so a scenario's texts (title, caption, side names, bookmark labels, given in every UI
language) are read without importing ``tracer.run`` or ``sim``: a replay or an export of a
demo's recording needs only them. ``marks`` finds the key moments in the recordings; ``check``
states the shape the demonstration must show, read from events. Imports the spine only
(``tracer.run`` and ``sim`` for type hints); never the UI.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from tracer.recording import Recording

if TYPE_CHECKING:
    from sim import SimConfig
    from tracer.run import RunConfig

__all__ = ["Side", "Runs", "Scenario", "Moment", "Texts", "LANGS"]

LANGS: tuple[str, ...] = ("en", "zh")
"""Languages every scenario speaks (the UI's ``--lang`` choices)."""

Texts = Mapping[str, Mapping[str, str]]
"""Language -> key -> text. Keys: ``title``, ``caption`` (of the sides shown in order, top
first), ``side0``/``side1`` (each side's name), ``about0``/``about1`` (what each side shows,
said without the other: the caption when it is shown alone, or beside a recording of another
side or run), and per bookmark ``<key>`` (its label) and ``<key>:caption``."""

Moment = tuple[int, int, str, int | None]
"""A bookmark found in the recordings: (side index, time in ns, text key, the request it is
about or None). The request goes into the mark's data, so a figure draws its lane."""


@dataclass(frozen=True, slots=True)
class Runs:
    """The runs that can make one side's recording."""

    sim: SimConfig
    """The simulated run (``--sim``): full size, deterministic."""
    real: RunConfig | None = None
    """The real in-process run; None when the scenario is simulated only (c10k)."""
    quick: RunConfig | None = None
    """A smaller real run with the same shape, for tests (defaults to ``real``)."""


# Not slots: cached_property keeps the runs in the instance's __dict__.
@dataclass(frozen=True)
class Side:
    """One of the recordings a scenario shows: ``Side(lambda: Runs(sim=..., real=...))``.

    ``make`` runs on the first use of ``sim``, ``real``, ``quick`` or ``config``, not when the
    scenario tables are imported: building a config imports ``sim`` or ``tracer.run`` (the
    server models, the load generator), which reading the scenario's texts must not.
    """

    make: Callable[[], Runs]
    """Builds the side's runs (once)."""

    @cached_property
    def runs(self) -> Runs:
        """The side's runs, made on first use."""
        return self.make()

    @property
    def sim(self) -> SimConfig:
        """The simulated run (``--sim``): full size, deterministic."""
        return self.runs.sim

    @property
    def real(self) -> RunConfig | None:
        """The real in-process run; None when the scenario is simulated only (c10k)."""
        return self.runs.real

    @property
    def quick(self) -> RunConfig | None:
        """A smaller real run with the same shape, for tests (None: ``real`` is used)."""
        return self.runs.quick

    def config(self, *, quick: bool) -> RunConfig | None:
        """The real run to make (``quick`` picks the reduced one)."""
        return (self.quick or self.real) if quick else self.real


@dataclass(frozen=True, slots=True)
class Scenario:
    """A demonstration a teacher runs with ``trace demo NAME``."""

    name: str
    """The ``trace demo`` argument."""
    texts: Texts
    """Title, caption, side names and bookmark texts in each of ``LANGS``."""
    sides: tuple[Side, ...]
    """One recording, or two to compare (top, bottom)."""
    marks: Callable[[Sequence[Recording]], list[Moment]]
    """The key moments of these recordings (bookmarks the cursor jumps to)."""
    check: Callable[[Sequence[Recording]], list[str]]
    """What is wrong with the shape of these recordings (empty: the point is visible)."""
    figures: Callable[[Sequence[Recording]], dict[str, float]]
    """The numbers that make the point (printed by ``--headless``)."""
    notes: Callable[[Sequence[Recording], str], list[str]] | None = None
    """What a real run could not show on this machine though its shape is right (a busy core),
    in the language given: said beside the shape check, not counted against it."""
    source: str | None = None
    """The scenario file it was read from (``trace demo --scenario FILE``); None: built in.
    A file states no expected shape: ``check`` finds nothing, and nothing is said of it."""

    @property
    def simulated_only(self) -> bool:
        """True when no side can run for real."""
        return all(side.real is None for side in self.sides)

    @property
    def partly_simulated(self) -> bool:
        """True when some sides run for real and some cannot (WSGI has no WebSocket)."""
        return not self.simulated_only and any(side.real is None for side in self.sides)

    def text(self, lang: str, key: str) -> str:
        """One text in ``lang`` (English when missing)."""
        return self.texts.get(lang, {}).get(key) or self.texts["en"].get(key, key)

    def title(self, lang: str) -> str:
        """The scenario's title."""
        return self.text(lang, "title")

    def caption(self, lang: str) -> str:
        """What to look at: the caption pane's text for the sides shown in order."""
        return self.text(lang, "caption")

    def about(self, lang: str, side: int) -> str | None:
        """What side ``side`` (from 0) shows on its own, in ``lang``; None when the texts say
        nothing of it."""
        key = f"about{side}"
        return self.text(lang, key) if key in self.texts["en"] else None
