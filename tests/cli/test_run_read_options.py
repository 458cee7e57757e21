"""``trace run --read-for D / --read-bytes N / --read-rate BYTES/S``: how the network client
reads responses. Taken by the real servers (as ``ServerConfig.options``), refused with one
line and exit 2 where they would be ignored or cannot work."""

from __future__ import annotations

import pytest

from tracer.cli import build_parser, main
from tracer.cli.run import config_from_args

pytestmark = pytest.mark.timeout(60)

APP = "sample_apps.hello:asgi_app"


def _usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """The one stderr line of ``trace ARGV``, which must exit 2 and print nothing on stdout."""
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    assert (code, out) == (2, ""), err
    assert err.count("\n") == 1 and "Traceback" not in err
    return err


def test_the_options_reach_the_server_options_parsed() -> None:
    """A duration in seconds, a byte count, a rate: what the real server's client is given."""
    args = build_parser().parse_args(
        ["run", APP, "--server", "uvicorn", "--read-for", "500ms", "--read-bytes", "0",
         "--read-rate", "1000"]
    )  # fmt: skip
    options = config_from_args(args).server_options
    assert options == {"read_for": 0.5, "read_bytes": 0, "read_rate": 1000.0}


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (["--read-for", "2s"], "--read-for is a real server's flag; --server loop runs in process"),
        (["--server", "uvicorn", "--read-for", "20s"],
         "--read-for 20s is not shorter than --timeout 20s"),
        (["--server", "uvicorn", "--read-for", "1s", "--timeout", "500ms"],
         "--read-for 1s is not shorter than --timeout 500ms"),
        (["--server", "uvicorn", "--read-for", "soon"], '--read-for "soon" is not a duration'),
        (["--server", "uvicorn", "--read-for", "0"], '--read-for "0" is zero'),
        (["--server", "hypercorn", "--http2", "--read-rate", "100"],
         "--read-rate paces the HTTP/1.1 client's reads"),
        (["--server", "uvicorn", "--read-bytes", "10", "--path", "ws:/echo"],
         "--read-bytes says how HTTP responses are read; WebSocket sessions"),
        (["--server", "uvicorn", "--read-for", "1s", "--ws-messages", "2"],
         "--read-for says how HTTP responses are read; WebSocket sessions"),
        (["--server", "uvicorn", "--read-bytes", "-1"], "--read-bytes: -1 is out of range"),
        (["--server", "uvicorn", "--read-rate", "0"], "--read-rate: 0 is out of range"),
    ],
)  # fmt: skip
def test_refused_where_it_would_be_ignored_or_is_wrong(
    extra: list[str], said: str, capsys: pytest.CaptureFixture[str], tmp_path: object
) -> None:
    err = _usage_error(["run", APP, "--headless", "-n", "1", *extra], capsys)
    assert said in err
