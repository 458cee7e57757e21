"""pyproject.toml's floors, licence and sdist manifest, read as files.

pip keeps an installed release that satisfies a declared range, so a floor below the oldest
release the commands work on is a crash for someone (textual 0.80 had no ``textual.content``;
asgiref 3.11.0 has no ``duplicate_header_limit``; protobuf 6.30 no ``is_repeated``). The
floors below were each checked by installing the wheel at exactly those versions
(docs/decisions.md, Packaging); this keeps them from going back down unnoticed.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

_REPO = Path(__file__).resolve().parents[1]
_PYPROJECT = tomllib.loads((_REPO / "pyproject.toml").read_text(encoding="utf-8"))

KNOWN_GOOD = {
    "rich": "13.7",
    "textual": "6.2",  # 6.1: 'Content' object has no attribute 'wrap'
    "anyio": "4.0",
    "asgiref": "3.11.1",  # 3.11.0: every wsgi-on-loop request fails
    "orjson": "3.9",
    "opentelemetry-api": "1.35",
    "opentelemetry-sdk": "1.35",
    "opentelemetry-exporter-otlp-proto-http": "1.35",
    "opentelemetry-exporter-otlp-proto-common": "1.35",  # imported by tracer/export/otlp.py
    "protobuf": "6.31",  # imported by tracer/otel/otlp_json.py; 6.30: no is_repeated
}
"""Core dependency -> the oldest release checked to work."""

KNOWN_GOOD_EXTRAS = {
    "grpc": {"opentelemetry-exporter-otlp-proto-grpc": "1.35"},
    "serve": {"textual-serve": "1.1.3"},  # tracer/cli/serve_server.py subclasses its internals
    "test": {
        "pytest-textual-snapshot": "1.1",  # 1.0: the stored snapshots do not match
        "opentelemetry-proto": "1.35",  # below it, protobuf < 6: conflicts with the core floor
        "opentelemetry-instrumentation-asgi": "0.56b0",  # released with opentelemetry 1.35
        "opentelemetry-instrumentation-wsgi": "0.56b0",
    },
}


def _floors(requirements: list[str]) -> dict[str, Version]:
    """Each requirement's name -> its ``>=`` floor (absent when it has none)."""
    floors = {}
    for text in requirements:
        requirement = Requirement(text)
        for spec in requirement.specifier:
            if spec.operator == ">=":
                floors[requirement.name.lower()] = Version(spec.version)
    return floors


@pytest.mark.parametrize(
    ("where", "requirements", "known"),
    [("dependencies", _PYPROJECT["project"]["dependencies"], KNOWN_GOOD)]
    + [
        (f"[{extra}]", _PYPROJECT["project"]["optional-dependencies"][extra], good)
        for extra, good in KNOWN_GOOD_EXTRAS.items()
    ],
)
def test_floors_are_at_least_the_known_good_releases(
    where: str, requirements: list[str], known: dict[str, str]
) -> None:
    """Every dependency imported or known to break below a release declares that floor."""
    floors = _floors(requirements)
    too_low = {
        name: str(floors.get(name, "none"))
        for name, good in known.items()
        if name not in floors or floors[name] < Version(good)
    }
    assert too_low == {}, f"{where}: floors below the known-good releases {known}"


def test_the_licence_is_an_spdx_expression_with_its_file() -> None:
    """``license = "MIT"`` (the table form is deprecated by setuptools) and the MIT text
    ships in the wheel and the sdist; the build backend is one that reads that form."""
    project = _PYPROJECT["project"]
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]
    text = (_REPO / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n\nCopyright (c) 2026 the gateway-tracer authors\n")
    assert 'THE SOFTWARE IS PROVIDED "AS IS"' in text
    assert not any(c.startswith("License ::") for c in project["classifiers"])  # PEP 639
    (setuptools,) = _floors(
        [r for r in _PYPROJECT["build-system"]["requires"] if r.startswith("setuptools")]
    ).values()
    assert setuptools >= Version("77.0.1")


def test_classifiers_say_pytest_plugin_and_posix() -> None:
    """A pytest11 entry point ships, and the UI imports termios."""
    project = _PYPROJECT["project"]
    assert "gateway_tracer" in project["entry-points"]["pytest11"]
    assert {"Framework :: Pytest", "Operating System :: POSIX"} <= set(project["classifiers"])


def test_the_sdist_manifest_takes_every_source_folder() -> None:
    """The sdist is the whole tree: setuptools alone left out the tests' subfolders (with
    their snapshots), docs, bench and screenshots."""
    lines = (_REPO / "MANIFEST.in").read_text(encoding="utf-8").splitlines()
    grafted = {line.split()[1] for line in lines if line.startswith("graft ")}
    folders = {"tracer", "sim", "sample_apps", "tests", "docs", "bench", "screenshots", ".ci"}
    assert all((_REPO / folder).is_dir() for folder in folders)
    assert folders <= grafted
    assert {"LICENSE", "README.md"} <= set(
        word for line in lines if line.startswith("include ") for word in line.split()[1:]
    )


def test_the_bundled_workloads_are_package_data() -> None:
    """``trace sim --workload mixed`` reads them from the installed package."""
    assert "workloads/*.toml" in _PYPROJECT["tool"]["setuptools"]["package-data"]["sim"]
