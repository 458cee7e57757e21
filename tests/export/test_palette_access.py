"""The figures' phase colours read on a projector and for red-weak and green-weak viewers:
each has a contrast of 3:1 at least against the white page (WCAG 2.1, 1.4.11), and every two
phases stay apart when protanopia or deuteranopia is simulated (Machado, Oliveira and
Fernandes 2009, severity 1, applied to linear RGB), by CIELAB distance."""

from __future__ import annotations

import itertools
import math

import pytest

from tracer.export.drawing import COLORS

PHASES = ("queued", "running", "sending", "blocked", "waiting")
"""The phases a lane is drawn in (error's ✖ takes blocked's colour)."""

MACHADO: dict[str, tuple[tuple[float, float, float], ...]] = {
    "normal": ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)),
    "protanopia": (
        (0.152286, 1.052583, -0.204868),
        (0.114503, 0.786281, 0.099216),
        (-0.003882, -0.048116, 1.051998),
    ),
    "deuteranopia": (
        (0.367322, 0.860646, -0.227968),
        (0.280085, 0.672501, 0.047413),
        (-0.011820, 0.042940, 0.968881),
    ),
}

MIN_CONTRAST = 3.0
MIN_DISTANCE = 25.0
"""CIELAB (1976) distance between two phases as any of ``MACHADO``'s viewers sees them."""


def _linear(colour: str) -> tuple[float, float, float]:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return r, g, b


def _relative_luminance(rgb: tuple[float, float, float]) -> float:
    r, g, b = rgb
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(one: str, other: str = "#ffffff") -> float:
    """WCAG's contrast ratio of two colours."""
    dark, light = sorted(_relative_luminance(_linear(c)) for c in (one, other))
    return (light + 0.05) / (dark + 0.05)


def seen(colour: str, vision: str) -> tuple[float, float, float]:
    """The linear RGB a viewer with ``vision`` sees (clipped to the gamut)."""
    rgb = _linear(colour)
    return tuple(  # type: ignore[return-value]
        min(1.0, max(0.0, sum(m * c for m, c in zip(row, rgb, strict=True))))
        for row in MACHADO[vision]
    )


def _lab(rgb: tuple[float, float, float]) -> tuple[float, float, float]:
    r, g, b = rgb
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


@pytest.mark.parametrize("phase", PHASES)
def test_every_phase_colour_has_3_to_1_against_the_page(phase: str) -> None:
    assert contrast(COLORS[phase]) >= MIN_CONTRAST, (phase, round(contrast(COLORS[phase]), 2))


@pytest.mark.parametrize("vision", sorted(MACHADO))
def test_phases_stay_apart_for_colour_blind_viewers(vision: str) -> None:
    close = [
        (
            one,
            other,
            round(math.dist(_lab(seen(COLORS[one], vision)), _lab(seen(COLORS[other], vision))), 1),
        )
        for one, other in itertools.combinations(PHASES, 2)
    ]
    assert [c for c in close if c[2] < MIN_DISTANCE] == []


def test_the_simulation_is_the_standard_one() -> None:
    """Red and green differ along CIELAB's red-green axis (a*) for a normal viewer and hardly
    for a protanope or deuteranope (the matrices are not mistyped)."""

    def red_green_gap(vision: str) -> float:
        return abs(_lab(seen("#cc3333", vision))[1] - _lab(seen("#33aa33", vision))[1])

    assert red_green_gap("normal") > 100
    assert red_green_gap("protanopia") < 10
    assert red_green_gap("deuteranopia") < 10
