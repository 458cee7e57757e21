"""``trace run --lang en|zh``: the live dashboard and the replay it becomes in that language
(the report after it stays English, as its help says); another language is one line, exit 2."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest
from tmux_helpers import TMUX, new_session
from tmux_helpers import tmux as _tmux
from tmux_helpers import wait_for as _wait_for

from tracer.cli import main

pytestmark = pytest.mark.timeout(90)


def test_the_help_names_the_languages_and_what_stays_english(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``trace run --help`` lists ``--lang {en,zh}`` and says the report is English."""
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--help"])
    assert exit_info.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "--lang {en,zh}" in out
    assert "the report stays English" in out


def test_an_unknown_language_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """``--lang fr``: one line naming the choices, before anything runs."""
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--lang", "fr"])
    assert exit_info.value.code == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "Traceback" not in err
    assert "--lang" in err and "'zh'" in err


@pytest.mark.skipif(TMUX is None, reason="tmux is not installed")
def test_the_dashboard_and_its_replay_speak_chinese(tmp_path: Path) -> None:
    """``trace run --lang zh`` on a terminal: the live header says 实时 and 进度, the replay
    opens with the Chinese notice; the report after it is the English one."""
    name = f"gt-lang-{uuid.uuid4().hex[:8]}"
    command = (
        f"cd {tmp_path} && {sys.executable} -m tracer run --lang zh -z 1s -c 2 "
        "--record run.jsonl; echo $? > rc.txt; sleep 60"
    )
    screens: list[str] = []

    def shown(text: str) -> bool:
        screens.append(_tmux("capture-pane", "-p", "-t", name).stdout)
        return text in screens[-1]

    try:
        new_session(name, command, width=120, height=40)
        assert _wait_for(lambda: shown("运行结束：整个运行的回放"), 60.0), screens[-1:]
        _tmux("send-keys", "-t", name, "q")
        assert _wait_for(lambda: (tmp_path / "rc.txt").exists(), 30.0)
        after = _tmux("capture-pane", "-p", "-S", "-", "-t", name).stdout
    finally:
        _tmux("kill-session", "-t", name)
    assert (tmp_path / "rc.txt").read_text().strip() == "0", after
    live = [screen for screen in screens if "● 实时" in screen]
    assert live and "进度" in live[0] and "q：停止运行" in live[0], screens[:3]
    assert "recording: run.jsonl" in after
