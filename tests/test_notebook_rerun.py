"""Running the example notebook's recording cell again, as a notebook user does.

docs/examples/notebook-walkthrough.ipynb defines the app in one cell and instruments it in the
next under a name of its own (``traced = tracer.instrument(app, recorder=rec)``): run again,
that cell records into its new recorder around the same app, each recorder holding its own 8
requests. Its note says why: written ``app = tracer.instrument(app, ...)``, a second run wraps
the app instrumented the first time, and recorders nested that way each record everything
(docs/recording-format.md, "Wrapped twice"), the first one both runs. The cells are the
notebook's own, run with top-level ``await`` as a kernel runs them.
"""

from __future__ import annotations

import ast
import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("httpx")

NOTEBOOK = (
    Path(__file__).resolve().parent.parent / "docs" / "examples" / "notebook-walkthrough.ipynb"
)


def _cells() -> list[str]:
    notebook = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    return ["".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code"]


def _run(source: str, namespace: dict[str, Any]) -> None:
    """Run a cell's code in ``namespace``, its top-level ``await`` included."""
    code = compile(source, "<cell>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    awaited = eval(code, namespace)  # a coroutine when the cell awaits
    if awaited is not None:
        asyncio.run(awaited)


def _requests(recorder: Any) -> int:
    import tracer

    return int(tracer.summarize(recorder)["requests"])


def _run_twice(recording_cell: str) -> tuple[dict[str, Any], Any, Any]:
    """The imports, the app's cell, then ``recording_cell`` twice: the namespace and the
    recorder of each run."""
    cells = _cells()
    (app_cell,) = [cell for cell in cells if cell.startswith("async def app(")]
    imports = cells[0]
    namespace: dict[str, Any] = {}
    _run(imports, namespace)
    _run(app_cell, namespace)
    _run(recording_cell, namespace)
    first = namespace["rec"]
    _run(recording_cell, namespace)
    return namespace, first, namespace["rec"]


def _recording_cell() -> str:
    (cell,) = [cell for cell in _cells() if "tracer.instrument(" in cell]
    return cell


def test_the_recording_cell_run_again_records_into_its_new_recorder_alone() -> None:
    cell = _recording_cell()
    assert "traced = tracer.instrument(app, recorder=rec)" in cell
    namespace, first, second = _run_twice(cell)
    assert first is not second
    assert namespace["traced"].app is namespace["app"]  # the app itself, not the first shim
    assert (_requests(first), _requests(second)) == (8, 8)


def test_the_app_renamed_to_its_instrumented_self_nests_as_the_note_says() -> None:
    """``app = tracer.instrument(app, ...)`` run twice: the first recorder gets both runs."""
    cell = _recording_cell().replace(
        "traced = tracer.instrument(", "app = traced = tracer.instrument("
    )
    namespace, first, second = _run_twice(cell)
    assert namespace["traced"].app.recorder is first
    assert (_requests(first), _requests(second)) == (16, 8)
