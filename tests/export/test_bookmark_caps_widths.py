"""``text_width`` is exact: whole hundredths of the font size, divided once, so the same float
on every Python (a float ``sum()`` of per-glyph widths differs in its last bits between 3.11
and 3.12, which changed how it adds), whatever the order of the glyphs. It is the value the
float sum came within a last bit of, so the figures' bytes are those the sum made."""

from __future__ import annotations

import random

import pytest

from tracer.demos import SCENARIOS
from tracer.export.drawing import text_width
from tracer.export.legend import LEGENDS


@pytest.mark.parametrize(
    "text,size,width",
    [
        ("a" * 10, 13, 75.4),  # a float sum of ten 7.54s: 75.39999999999998 on 3.11
        ("Requests queue", 13, 105.56),  # 105.55999999999995 on 3.11, ...999 on 3.12
        ("threads " * 7, 13, 422.24),  # 422.24000000000024 on 3.11, 422.23999999999995 on 3.12
        ("x" * 123 + "排" * 5, 13, 992.42),
        ("请求开始排队 a", 13, 93.08),
        ("", 17, 0.0),
    ],
)
def test_a_width_is_the_exact_hundredths(text: str, size: int, width: float) -> None:
    """Widths that a float sum missed in its last bits come out as written."""
    assert text_width(text, size) == width


def test_a_width_depends_on_how_many_glyphs_of_each_kind_not_their_order() -> None:
    """Any order of the same glyphs, any font size: the quotient of whole numbers."""
    rng = random.Random(3)
    for _ in range(500):
        glyphs = [rng.choice("aZ0 .…/排队线程ー") for _ in range(rng.randrange(200))]
        size = rng.choice([12, 13, 15, 17])
        wide = sum(1 for ch in glyphs if ord(ch) > 0x2E80)
        exact = (wide * 100 + (len(glyphs) - wide) * 58) * size / 100  # hundredths of size
        assert text_width("".join(glyphs), size) == exact
        rng.shuffle(glyphs)
        assert text_width("".join(glyphs), size) == exact


def test_every_demo_text_measures_what_the_float_sum_came_within_a_bit_of() -> None:
    """The legends' entries and every scenario text in both languages: the exact width is
    the float sum's to within its rounding, so no figure moves."""
    texts = [text for entries in LEGENDS.values() for _, text in entries]
    texts += [t for s in SCENARIOS.values() for words in s.texts.values() for t in words.values()]
    assert len(texts) > 100
    for text in texts:
        for size in (12, 13, 15, 17):
            summed = sum(size if ord(ch) > 0x2E80 else 0.58 * size for ch in text)
            assert text_width(text, size) == pytest.approx(summed, rel=1e-12, abs=1e-9)
