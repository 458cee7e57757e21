"""docs/examples/notebook-walkthrough.ipynb, executed in a real Jupyter kernel: every cell runs
inside the kernel's event loop, so this is the library as a notebook uses it (top-level
``await``, ``tracer.run.run`` from a cell, ``tracer.notebook.show`` displayed inline). Skipped
where nbclient or ipykernel is not installed."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "docs" / "examples" / "notebook-walkthrough.ipynb"


def test_the_example_notebook_runs_and_shows_its_timelines_inline() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")
    client = nbclient.NotebookClient(
        notebook, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}
    )
    client.execute()  # raises CellExecutionError on the first cell that fails
    results = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "execute_result"
    ]
    shown = [r for r in results if "text/html" in r.data]
    assert len(shown) == 3
    assert all(
        r.data["text/html"].startswith('<svg style="max-width:100%;height:auto" ') for r in shown
    )
    texts = [r.data["text/plain"] for r in results]
    assert "[200, 200, 200, 200, 200, 200, 200, 200]" in texts
    assert "(40, False)" in texts  # the in-process run, from inside the kernel's loop
    tables = [
        output.data["text/html"]
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "display_data"
    ]
    assert len(tables) == 1 and "sample_apps.io_bound:asgi_app" in tables[0]
