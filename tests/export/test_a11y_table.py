"""The summary table read out by a screen reader: each cell with its column's recording and
its row's figure (``<th scope="col">``, ``<th scope="row">``), as ``html.parser`` reads it."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from export_recordings import two_requests

from tracer.cli import main


class _Rows(HTMLParser):
    """The first table's rows (the summary's) as (tag, scope, text) per cell."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[tuple[str, str | None, str]]] = []
        self._cell: tuple[str, str | None] | None = None
        self._text = ""
        self._done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._done:
            return
        if tag == "tr":
            self.rows.append([])
        elif tag in ("th", "td"):
            self._cell, self._text = (tag, dict(attrs).get("scope")), ""

    def handle_data(self, data: str) -> None:
        self._text += data

    def handle_endtag(self, tag: str) -> None:
        self._done = self._done or tag == "table"
        if tag in ("th", "td") and self._cell is not None:
            self.rows[-1].append((*self._cell, self._text))
            self._cell = None


def test_every_header_cell_says_what_it_heads(tmp_path: Path) -> None:
    before, after = two_requests(tmp_path / "before.jsonl"), two_requests(tmp_path / "after.jsonl")
    out = tmp_path / "p.html"
    assert main(["export", before, after, "--to", "html", "-o", str(out)]) == 0
    parser = _Rows()
    parser.feed(out.read_text(encoding="utf-8"))
    head, *rows = parser.rows
    assert [(tag, scope) for tag, scope, _ in head] == [("th", "col")] * 3
    assert rows and all(row[0][:2] == ("th", "row") for row in rows)
    assert all(tag == "td" for row in rows for tag, _, _ in row[1:])
    assert ("th", "row", "requests") in [row[0] for row in rows]
