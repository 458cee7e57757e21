"""``trace demo NAME --serve``: a real server on 127.0.0.1 driven by a real HTTP and WebSocket
client, as a lecturer's browser would: the page needs no internet, sessions come and go, and
Ctrl-C (or the server killed) leaves no process behind."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("textual_serve")
aiohttp = pytest.importorskip("aiohttp")

pytestmark = pytest.mark.timeout(60)
ROOT = Path(__file__).resolve().parents[2]

BOUND = 10.0
"""Seconds any one step may take before the test gives up on it (a hang, not a slow machine:
each step takes well under a second)."""

DEMO_WORDS = b"-m tracer demo sync-vs-async --lang zh --sim".split()
"""What a browser session runs after the Python of ``trace``."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stat(pid: int) -> list[str] | None:
    """``state ppid pgrp ...`` of a live process, None once it has ended (or is a zombie)."""
    try:
        with open(f"/proc/{pid}/stat") as file:
            stat = file.read()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()
    return None if fields[0] == "Z" else fields


def _children(pid: int) -> list[int]:
    return [
        int(entry)
        for entry in os.listdir("/proc")
        if entry.isdigit() and (fields := _stat(int(entry))) and int(fields[1]) == pid
    ]


def _group(pgid: int) -> list[int]:
    return [
        int(entry)
        for entry in os.listdir("/proc")
        if entry.isdigit() and (fields := _stat(int(entry))) and int(fields[2]) == pgid
    ]


def _descendants(pid: int) -> list[int]:
    """The processes ``pid`` started, and theirs, down the tree."""
    found = _children(pid)
    for child in list(found):
        found += _descendants(child)
    return found


def _gone(pids: list[int]) -> bool:
    """Wait (bounded) for every one of ``pids``, and every process of the groups they lead,
    to end; whether they all did."""
    deadline = time.monotonic() + BOUND
    while time.monotonic() < deadline:
        if not any(_stat(pid) or _group(pid) for pid in pids):
            return True
        time.sleep(0.02)
    return False


@contextlib.contextmanager
def _served(*argv: str) -> Iterator[tuple[subprocess.Popen[bytes], int, str, list[int]]]:
    """``trace demo ARGV --serve --port P`` started; yields it, P, its first stderr line (said
    once it listens) and a list for the pids of its sessions' processes. Whatever is left of
    it and of them is killed after."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tracer", "demo", *argv, "--serve", "--port", str(port)],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    started: list[int] = []
    try:
        assert proc.stderr is not None
        ready, _, _ = select.select([proc.stderr], [], [], BOUND)
        line = proc.stderr.readline().decode() if ready else ""
        yield proc, port, line, started
    finally:
        started += _descendants(proc.pid)
        if proc.poll() is None:
            proc.kill()
        proc.wait(BOUND)
        for pid in started:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


async def _draw(ws: aiohttp.ClientWebSocketResponse, wanted: str) -> str:
    """The session's output, as text without escape sequences, read until ``wanted`` shows."""
    output = b""
    text = ""
    while wanted not in text:
        message = await ws.receive(timeout=BOUND)
        assert message.type == aiohttp.WSMsgType.BINARY, message
        output += message.data
        text = re.sub(r"\x1b\[[0-9;?$]*[A-Za-z]", "", output.decode("utf-8", "replace"))
    return text


async def _the_lecture(
    port: int, server: subprocess.Popen[bytes], caption: str, started: list[int]
) -> None:
    """The page and its files, two browsers at once, one tab closed, then Ctrl-C."""
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as client:
        async with client.get(f"{base}/") as reply:
            assert reply.status == 200 and reply.charset == "utf-8"
            page = await reply.text()
        # Nothing from outside 127.0.0.1: textual-serve's own page asks fonts.googleapis.com.
        urls = re.findall(r'(?:href|src)="([^"]+)"|url\("?([^")]+)"?\)', page)
        urls = [a or b for a, b in urls]
        assert urls and all(url.startswith(f"{base}/static/") for url in urls), urls
        assert "googleapis" not in page and "@font-face" in page
        for url in urls:
            async with client.get(url) as reply:
                assert reply.status == 200, url
        assert '<meta charset="utf-8" />' in page and '<html lang="zh-CN">' in page
        assert "<title>同步与异步：同一个 100 毫秒 I/O 接口</title>" in page
        assert "会话已结束。" in page and "Session ended." not in page

        first, second = [
            await client.ws_connect(f"{base}/ws?width=120&height=40") for _ in range(2)
        ]
        await asyncio.gather(_draw(first, caption), _draw(second, caption))
        sessions = _children(server.pid)
        started += _descendants(server.pid)
        assert len(sessions) == 2
        for pid in sessions:
            with open(f"/proc/{pid}/cmdline", "rb") as file:
                words = file.read().split(b"\0")[:-1]
            # No shell in between, the demo's language, a process group of its own.
            assert words == [os.fsencode(sys.executable), *DEMO_WORDS]
            fields = _stat(pid)
            assert fields is not None and int(fields[2]) == pid

        await first.close()  # the tab closed: its process ends, the other session goes on
        deadline = time.monotonic() + BOUND
        while all(_stat(pid) for pid in sessions) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        still = [pid for pid in sessions if _stat(pid)]
        assert len(still) == 1 and _gone([pid for pid in sessions if pid not in still])

        server.send_signal(signal.SIGINT)  # Ctrl-C with a browser still open
        message = await second.receive(timeout=BOUND)
        while message.type == aiohttp.WSMsgType.BINARY:  # what it drew before the end
            message = await second.receive(timeout=BOUND)
        # The page is told the session ended (the browser shows "会话已结束。"); its process ends.
        assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED), message
        assert _gone(started)


def test_a_lecture_in_chinese_needs_no_internet_and_ctrl_c_leaves_nothing() -> None:
    """``trace demo sync-vs-async --sim --lang zh --serve``: the console says where and how to
    stop it; the page loads only from 127.0.0.1 (textual-serve's own asks Google Fonts, which a
    hall without internet cannot reach), has a charset, a Chinese title and words; two browser
    sessions each run the demo in Chinese in their own process; closing one tab ends its
    process; Ctrl-C with the other still open ends its process, closes its page, and the server
    exits 0 (it used to wait for the browser to leave, 20 s and more)."""
    from tracer.demos import scenario

    caption = scenario("sync-vs-async").caption("zh")[:6]
    with _served("sync-vs-async", "--sim", "--lang", "zh") as (server, port, line, started):
        assert line == (
            f"trace：正在 http://127.0.0.1:{port} 上提供 sync-vs-async"
            "（请在本机的浏览器中打开；按 Ctrl-C 停止）\n"
        )
        asyncio.run(_the_lecture(port, server, caption, started))
        assert server.wait(BOUND) == 0
        assert server.stdout is not None and server.stderr is not None
        out, err = server.stdout.read().decode(), server.stderr.read().decode()
        # No banner, no line per request, no session's progress line echoed at its end.
        assert out == "" and err == "", (out, err)


def test_a_killed_server_leaves_no_session_process() -> None:
    """SIGKILL (or a crash) of the server, a browser session open: the session's ``trace
    demo`` ends too (Textual's web driver does not end when its stdin does; it was left
    running for good)."""
    with _served("sync-vs-async", "--sim") as (server, port, _, started):

        async def hold() -> None:
            async with aiohttp.ClientSession() as client:
                ws = await client.ws_connect(f"http://127.0.0.1:{port}/ws?width=100&height=30")
                await _draw(ws, "WSGI")
                started.extend(_descendants(server.pid))
                server.kill()
                server.wait(BOUND)

        asyncio.run(hold())
        assert started and _gone(started)


def test_a_port_in_use_says_nothing_of_serving() -> None:
    """The port taken: one line saying so and exit 2; it used to say "serving" on stderr and
    print textual-serve's banner ("Serving ... Press Ctrl+C to quit") first."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "tracer", "demo", "c10k", "--serve", "--port", str(port)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == (
        f"trace: error: Cannot serve on 127.0.0.1:{port}: the port is in use (another server, "
        "or a trace demo --serve still running); choose another --port.\n"
    )


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="needs root to drop the capability",
)
def test_a_privileged_port_without_the_privilege_says_why() -> None:
    """Port 81 in a process that may not bind it: the line says ports below 1024 need
    privileges (it used to quote aiohttp's "error while attempting to bind on address ...").
    Root without CAP_NET_BIND_SERVICE, not another user: that user could not run an
    interpreter installed under root's home (pyenv's 3.12 and 3.13 here)."""
    code = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "from tracer.errors import UsageError\n"
        "from tracer.cli.serve import listen_socket\n"
        "try:\n    listen_socket(81)\nexcept UsageError as exc:\n    print(exc)\n"
    )
    proc = subprocess.run(
        [
            "setpriv",
            "--inh-caps=-net_bind_service",
            "--bounding-set=-net_bind_service",
            sys.executable,
            "-c",
            code,
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
    )
    assert proc.stdout == (
        "Cannot serve on 127.0.0.1:81: this user may not listen on that port (ports below 1024 "
        "need root or CAP_NET_BIND_SERVICE); choose a --port of 1024 or more.\n"
    ), proc.stderr


def test_the_page_keeps_what_textual_js_looks_for() -> None:
    """The served page is textual-serve's with the font made local: every id, class and data-
    attribute of the installed textual-serve's page is in it (a textual-serve whose page
    changed shows here, not as a blank browser)."""
    import textual_serve

    from tracer.cli.serve_server import PAGE_FOLDER

    theirs = Path(textual_serve.__file__).parent / "templates" / "app_index.html"
    ours = Path(PAGE_FOLDER) / "app_index.html"
    hooks = re.compile(r'\b(?:id|class|data-[a-z-]+)="[^"]*"|\{\{ [a-z_.]+ \}\}')
    missing = set(hooks.findall(theirs.read_text())) - set(hooks.findall(ours.read_text()))
    assert not missing
