"""A scenario file's bookmark texts: the tool's own words, or the file's ``[bookmarks.<key>]``.

A scenario file's bookmarks are found from events (``tracer.demos.from_file``): ``queue``,
``blocked`` and ``overlap``. Each is said in the tool's words (``BOOKMARKS``, in every language
the UI speaks) unless the file says it in its own: a ``[bookmarks.<key>]`` table with ``label``
and ``caption``, and optionally ``zh = { label, caption }``. Where the file gives no Chinese,
``--lang zh`` shows the tool's Chinese words for that bookmark. ``read_bookmarks`` checks every
key and gives the texts per language; a problem is one ``UsageError`` naming the file and the
bookmark. Imports ``tracer.demos.file_sides``' text check only.
"""

from __future__ import annotations

from typing import Any

from tracer.demos.file_sides import text_value
from tracer.errors import UsageError

__all__ = ["BOOKMARKS", "BOOKMARK_KEYS", "read_bookmarks"]

BOOKMARK_KEYS = ("queue", "blocked", "overlap")
"""The bookmarks a file's recordings get, in the order messages list them."""

BOOKMARKS: dict[str, dict[str, str]] = {
    "en": {
        "queue": "Requests queue",
        "queue:caption": "every worker is busy, so this request waits to be served.",
        "blocked": "Loop blocked",
        "blocked:caption": "a step holds the event loop; every other request waits.",
        "overlap": "Most in flight",
        "overlap:caption": "the most requests in flight at once, none of them waiting.",
    },
    "zh": {
        "queue": "请求开始排队",
        "queue:caption": "所有工作线程都在忙，这个请求只能等待。",
        "blocked": "事件循环被阻塞",
        "blocked:caption": "一个步骤占住了事件循环，其他请求都在等待。",
        "overlap": "同时进行最多",
        "overlap:caption": "同时进行的请求最多，且没有一个在等待。",
    },
}
"""The automatic bookmarks' labels and captions, in every language the UI speaks."""

_FIELDS = ("label", "caption")
"""What one bookmark's texts are, in each language."""


def read_bookmarks(data: dict[str, Any], where: str) -> dict[str, dict[str, str]]:
    """Language -> the bookmark texts of the file whose top-level table is ``data`` (``where``:
    how messages name the file): the tool's words, replaced by the file's where it gives its
    own (``<key>`` is the label, ``<key>:caption`` the caption)."""
    texts = {lang: dict(words) for lang, words in BOOKMARKS.items()}
    if "bookmarks" not in data:
        return texts
    tables = data["bookmarks"]
    example = '[bookmarks.queue] with label = "..." and caption = "..."'
    if not isinstance(tables, dict):
        raise UsageError(f"{where}: bookmarks must be tables, like {example}.")
    unknown = sorted(set(tables) - set(BOOKMARK_KEYS))
    if unknown:
        raise UsageError(
            f"{where}: unknown bookmark {unknown[0]!r}; expected [bookmarks.<key>] with key "
            f"{', '.join(BOOKMARK_KEYS)}."
        )
    for key in BOOKMARK_KEYS:
        if key not in tables:
            continue
        place = f"{where}, [bookmarks.{key}]"
        table = tables[key]
        if not isinstance(table, dict):
            raise UsageError(
                f'{place} must be a table, like [bookmarks.{key}] with label = "..." and '
                'caption = "...".'
            )
        wrong = sorted(set(table) - {*_FIELDS, "zh"})
        if wrong:
            raise UsageError(f"{place}: unknown key {wrong[0]!r}; expected label, caption, zh.")
        texts["en"].update(_said(table, key, place))
        if "zh" in table:
            zh = table["zh"]
            if not isinstance(zh, dict):
                raise UsageError(
                    f'{place}: zh must be a table, like zh = {{label = "...", caption = "..."}}.'
                )
            wrong = sorted(set(zh) - set(_FIELDS))
            if wrong:
                raise UsageError(f"{place}, zh: unknown key {wrong[0]!r}; expected label, caption.")
            texts["zh"].update(_said(zh, key, f"{place}, zh"))
    return texts


def _said(table: dict[str, Any], key: str, place: str) -> dict[str, str]:
    """One language's label and caption of bookmark ``key`` (both required)."""
    for field in _FIELDS:
        if field not in table:
            raise UsageError(f'{place}: missing key "{field}"; add {field} = "...".')
    label = text_value(table, "label", place, line=True)
    caption = text_value(table, "caption", place, line=False)
    assert label is not None and caption is not None  # present: checked above
    return {key: label, f"{key}:caption": caption}
