"""Every ``trace run`` command line of README.md's "Run" block and of docs/run.md's first block
is one ``trace run`` accepts: parsed as the CLI parses it, its app loaded and its server model
built (``open_server``, which refuses an app the model cannot run and flags the model has no
use for), nothing started, no load sent.

``myapp:app`` stands for the reader's own app; the README's other examples of it (``trace
check myapp:app --path / --path /ws``, a WebSocket route) make it an ASGI app, so it is one
here, and an example giving it a WSGI-only model is refused as ``trace run`` would refuse it.
"""

from __future__ import annotations

import re
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tracer.cli import build_parser
from tracer.cli.run import config_from_args, refuse_what_does_not_apply
from tracer.recorder import Recorder
from tracer.run import open_server

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parent.parent
MYAPP = """
async def app(scope, receive, send):
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"hi"})
"""


def run_lines(document: str, heading: str | None) -> list[str]:
    """The ``trace run`` lines of the first ``sh`` block after ``heading`` (the document's
    first block when None), without their comments and redirections."""
    text = (ROOT / document).read_text(encoding="utf-8")
    if heading is not None:
        text = text[text.index(f"\n{heading}\n") :]
    block = re.search(r"```sh\n(.*?)```", text, re.S)
    assert block is not None
    lines = []
    for line in block.group(1).splitlines():
        words = shlex.split(line, comments=True)
        if words[:2] == ["trace", "run"]:
            lines.append(shlex.join(words[: words.index(">")] if ">" in words else words))
    return lines


EXAMPLES = [
    *(("README.md", line) for line in run_lines("README.md", "## Run")),
    *(("docs/run.md", line) for line in run_lines("docs/run.md", None)),
]


@pytest.fixture(autouse=True)
def _forget_myapp() -> Iterator[None]:
    """The stand-in ``myapp`` leaves no module behind: other tests load a ``myapp`` of their
    own (tests/test_loading.py), and a cached one would be found instead."""
    sys.modules.pop("myapp", None)
    yield
    sys.modules.pop("myapp", None)


@pytest.mark.parametrize(("document", "line"), EXAMPLES)
def test_the_example_is_a_run_trace_accepts(
    document: str, line: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    words = shlex.split(line)
    if "uvicorn" in words:
        pytest.importorskip("uvicorn")
    (tmp_path / "myapp.py").write_text(MYAPP, encoding="utf-8")
    (tmp_path / "big.bin").write_bytes(b"x" * 1024)  # docs/run.md's --body-file
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    args = build_parser().parse_args(words[1:])
    refuse_what_does_not_apply(args)
    open_server(config_from_args(args), Recorder())  # a refusal is a UsageError here


def test_myapp_is_an_asgi_app_in_the_readme() -> None:
    """What the stand-in assumes: the README probes ``myapp:app`` for a WebSocket route."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "trace check myapp:app --path / --path /ws" in readme
