"""``cut_to``: a line of text cut to the width it is drawn at, ending in ``…``,
never in an opening bracket: ``ASGI loop…``, not ``ASGI loop（ …`` (a bracket opened on
nothing, then the cell a wide character left empty). Imports Rich only.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text

__all__ = ["OPENING", "cut_to"]

OPENING = "（([{「『《【〈"
"""Brackets that open what follows them: a cut line never ends in one."""

ELLIPSIS = "…"


def cut_to(text: Text, width: int) -> Text:
    """``text`` (one line) as it fits ``width`` cells: whole, or cut and ending in ``…``,
    without the spaces and opening brackets the cut would leave before it."""
    if cell_len(text.plain) <= width:
        return text.copy()
    if width < 1:
        return Text()
    cut = text.copy()
    cut.truncate(max(0, width - cell_len(ELLIPSIS)))  # a wide character split: a space
    kept = cut.plain
    while kept and (kept[-1].isspace() or kept[-1] in OPENING):
        kept = kept[:-1]
    if len(kept) < len(cut.plain):  # right_crop(0) would crop it all
        cut.right_crop(len(cut.plain) - len(kept))
    cut.append(ELLIPSIS)
    return cut
