"""Every label the UI shows, one dict per language (``en``, ``zh``).

Widgets never spell user-visible words themselves: they look them up here, so a demo can run
the whole UI in Chinese (``lang="zh"``). Rich measures CJK text in terminal cells, so lane
labels and the legend stay aligned whatever the language. Imports nothing of ours.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["LABELS", "LANGUAGES", "labels", "headed"]

_EN: dict[str, str] = {
    "lang": "en",  # the table's own language (titles from the spine take it: "(simulated)")
    # punctuation: Chinese text takes full-width marks (code names, numbers and "ms" stay ASCII)
    "colon": ": ",
    "semicolon": "; ",
    "comma": ", ",  # between the items of a list
    "aside": " ({})",  # a remark after a phrase
    # phases (legend, detail pane)
    "queued": "queued",
    "running": "running",
    "waiting": "waiting",
    "abandoned": "abandoned",  # the app's work after its client gave up (the figures' word)
    "blocked": "blocked loop",
    "sending": "sending",
    "error": "error",
    "violation": "violation",
    "idle": "idle",
    # views
    "by_request": "by request",
    "by_worker": "by worker",
    "view": "view",
    "loop_lane": "loop",  # before an event loop's thread name in the by-worker lanes
    # status bar
    "playing": "playing",
    "paused": "paused",
    "speed": "speed",
    "cursor": "cursor",
    "per_cell": "per cell",
    "help_hint": "? keys",
    "no_requests": "This recording holds no requests.",
    "truncated": "truncated: the run was interrupted",
    "summing_up": "summing up…",
    # summary
    "requests": "requests",
    "rps": "rps",
    "errors": "errors",
    "violations": "violations",
    "queue": "queue",
    "loop_blocked": "loop blocked",
    "in_flight": "in flight",
    "max_in_flight": "max in flight",
    "latency": "latency",
    "wall": "wall",
    "request_one": "request",
    # responses started and not all sent (the summary's ``cut_short``; not errors)
    "cut_short": "cut short",
    # responses the client stopped reading on purpose (the summary's ``client_closed``:
    # trace run --read-for / --read-bytes; neither errors nor cut short)
    "client_closed": "closed by client",
    # the summary's ``lifespan_failed``, before the app's message
    "lifespan_startup_failed": "lifespan startup failed",
    "lifespan_shutdown_failed": "lifespan shutdown failed",
    # after "lifespan": its own blocking, which "loop blocked" leaves out (the report's line);
    # {parts}: the ``*_load`` phrases that apply, joined by ``comma``
    "lifespan_blocked": "blocked the loop {parts}",
    "before_load": "{ms} before the load",
    "during_load": "{ms} during it",
    "after_load": "{ms} after it",
    # detail pane
    "detail": "detail",
    "recording": "recording",
    "scope": "scope",
    "environ": "environ",
    "phases": "time spent",
    "events": "events",
    "delayed_by": "what delayed it",
    "queued_for": "waited for a worker",
    "queued_for_loop": "waited for the loop",
    "held_by": "loop held by #{req}",
    "held_by_callback": "loop held by a callback",  # a block outside any request's step
    "blocked_loop_for": "blocked the loop for",
    "starved": "waiting on other threads: the GIL or a lock",
    "starved_busy": "waiting for a CPU: the machine was busy",
    "starved_by_threads": "its thread mostly waited on other threads (the GIL, or a lock they held) rather than running",
    "starved_by_machine": "its thread mostly waited for a CPU (the machine was busy) rather than running",
    "waiting_io": "waiting (I/O, a lock or the GIL; awaits)",
    "cpu_share": "on CPU",
    "nothing_delayed": "nothing: it ran as soon as it arrived",
    "maybe_held": "nothing seen, though the loop was blocked meanwhile by a request whose list of those it delayed is not whole (uvloop and trio hide their timers)",
    "utilisation": "utilisation",
    "lane_busy": "busy",
    "lane_requests": "requests served",
    "at_cursor": "at the cursor ({at})",
    "more_events": "more events not shown",
    "no_response": "no response",
    "status_code": "status",
    "lifespan": "lifespan",
    "ran_on": "app ran on until",
    "abandoned_detail": "abandoned: its client gave up at {at}, the app went on until {until}",
    # A request with no end (the recording was cut short): the legend, and the detail pane
    # with where its events stop.
    "unended_legend": "not finished",
    "unended": "not finished: nothing of it was recorded after {at}",
    # its request.end says ``cut_short``
    "cut_short_detail": "response cut short: started, not all handed to the server while the "
    "client was there (the client left, or the server gave up); bytes out = bytes handed to "
    "the server",
    # its client.response says ``client_closed`` ({reason}: read-for, read-bytes)
    "client_closed_detail": "closed by client ({reason}): the client stopped reading the "
    "response on purpose, not an error; bytes out = bytes handed to the server",
    "hint": "hint",
    "detail_keys": "J K scroll · ctrl+u ctrl+d page · esc close",
    # live dashboard
    "live": "live",
    "live_keys": "q: stop the run",
    "progress": "progress",
    "histogram": "latency histogram",
    "sparkline": "requests per second",
    "recent": "most recent requests",
    "stopping": "stopping: waiting for the run to flush…",
    "run_done": "run finished: replay of the whole run",
    "preparing_replay": "run finished: preparing the replay… (q: quit without it)",
    "longest": "longest",
    # {who}: the server, or "a worker process of ...", as the CLI's line says it
    "server_exited": "run ended: {who} exited by itself (exit code {code}): replay of the run "
    "until then",
    # help screen
    "help_title": "Keys",
    "key_view": "switch view: by request / by worker",
    "key_play": "play / pause",
    "key_slower": "slower (down to 0.1×)",
    "key_faster": "faster (up to 10×)",
    "key_prev_event": "cursor to the previous event",
    "key_next_event": "cursor to the next event",
    "key_next_blocked": "cursor to the next loop.blocked",
    "key_next_mark": "cursor to the next bookmark",
    "key_caption": "show the whole caption / only its first lines",
    "key_zoom_in": "zoom in (around the cursor)",
    "key_zoom_out": "zoom out",
    "key_fit": "fit the whole recording",
    "key_pan_left": "pan left",
    "key_pan_right": "pan right",
    "key_home": "cursor to the start",
    "key_end": "cursor to the end",
    "key_up": "select the lane above",
    "key_down": "select the lane below",
    "key_page_up": "select a page of lanes up",
    "key_page_down": "select a page of lanes down",
    "key_next_timeline": "compare: keys act on the other recording",
    "key_detail": "open / close the detail pane",
    "key_close": "close the detail pane / this screen",
    "key_detail_up": "scroll the detail pane up",
    "key_detail_down": "scroll the detail pane down",
    "key_detail_page_up": "scroll the detail pane up a page",
    "key_detail_page_down": "scroll the detail pane down a page",
    "key_screenshot": "save an SVG screenshot",
    "key_help": "this screen",
    "key_quit": "quit",
    "key_copy": "copy the text selected with the mouse",
    "mouse": "mouse: click a lane to select it and open its detail (a click on its time moves "
    "the cursor there too); drag to pan; wheel scrolls lanes; shift+wheel pans; "
    "ctrl+wheel zooms",
    "not_saved": "could not save {where}: {why}",
    "speed_note": "speed 1× moves the cursor across the visible window in 10 s",
    "saved": "saved",
    "no_further_blocked": "no further loop.blocked",
    "no_further_mark": "no further bookmark",
    "caption_more": "c: more",  # after the "…" of a caption cut to its first lines
}

_ZH: dict[str, str] = {
    "lang": "zh",
    "colon": "：",
    "semicolon": "；",
    "comma": "，",
    "aside": "（{}）",
    "queued": "排队",
    "running": "运行",
    "waiting": "等待",
    "abandoned": "已放弃",
    "blocked": "事件循环被阻塞",
    "sending": "发送",
    "error": "错误",
    "violation": "违规",
    "idle": "空闲",
    "by_request": "按请求",
    "by_worker": "按工作线程",  # every lane is one thread (a loop's too)
    "view": "视图",
    "loop_lane": "事件循环",
    "playing": "播放中",
    "paused": "已暂停",
    "speed": "速度",
    "cursor": "光标",
    "per_cell": "每格",
    "help_hint": "? 按键",
    "no_requests": "此记录中没有请求。",
    "truncated": "已截断：运行被中断",
    "summing_up": "统计中…",
    "requests": "请求",
    "rps": "每秒请求数",
    "errors": "错误",
    "violations": "违规",
    "queue": "排队",
    "loop_blocked": "事件循环被阻塞",
    "in_flight": "进行中",
    "max_in_flight": "最大并发",
    "latency": "延迟",
    "wall": "总时长",
    "request_one": "请求",
    "cut_short": "截断",
    "client_closed": "客户端主动关闭",
    "lifespan_startup_failed": "生命周期启动失败",
    "lifespan_shutdown_failed": "生命周期关闭失败",
    "lifespan_blocked": "阻塞事件循环：{parts}",
    "before_load": "负载开始前 {ms}",
    "during_load": "负载期间 {ms}",
    "after_load": "负载结束后 {ms}",
    "detail": "详情",
    "recording": "记录",
    "scope": "作用域",
    "environ": "环境（environ）",
    "phases": "时间分布",
    "events": "事件",
    "delayed_by": "延迟原因",
    "queued_for": "等待工作线程",
    "queued_for_loop": "等待事件循环",
    "held_by": "事件循环被 #{req} 占用",
    "held_by_callback": "事件循环被回调占用",
    "blocked_loop_for": "阻塞事件循环",
    "starved": "在等待其他线程：GIL 或锁",
    "starved_busy": "在等待 CPU：机器正忙",
    "starved_by_threads": "它的线程大部分时间在等待其他线程（GIL，或它们持有的锁），而不是在运行",
    "starved_by_machine": "它的线程大部分时间在等待 CPU（机器正忙），而不是在运行",
    "waiting_io": "等待（I/O、锁或 GIL，await 挂起）",
    "cpu_share": "CPU 占比",
    "nothing_delayed": "无：到达后立即运行",
    "maybe_held": "未见，但其间事件循环被另一请求阻塞，而该阻塞所延迟请求的列表并不完整（uvloop 与 trio 隐藏了它们的定时器）",
    "utilisation": "利用率",
    "lane_busy": "忙碌时间",
    "lane_requests": "处理的请求",
    "at_cursor": "光标处（{at}）",
    "more_events": "更多事件未显示",
    "no_response": "无响应",
    "status_code": "状态码",
    "lifespan": "生命周期",
    "ran_on": "响应后应用仍运行至",
    "abandoned_detail": "已放弃：客户端在 {at} 放弃，应用仍运行至 {until}",
    "unended_legend": "未结束",
    "unended": "未结束：{at} 之后没有它的记录",
    "cut_short_detail": "响应被截断：已开始，但客户端还在时未全部交给服务器（客户端离开或服务器放弃）；"
    "bytes out 为交给服务器的字节数",
    "client_closed_detail": "客户端主动关闭（{reason}）：客户端有意停止读取响应，不算错误；"
    "bytes out 为交给服务器的字节数",
    "hint": "修复建议",
    "detail_keys": "J K 滚动 · ctrl+u ctrl+d 翻页 · esc 关闭",
    "live": "实时",
    "live_keys": "q：停止运行",
    "progress": "进度",
    "histogram": "延迟直方图",
    "sparkline": "每秒请求数",
    "recent": "最近的请求",
    "stopping": "正在停止：等待记录写完…",
    "run_done": "运行结束：整个运行的回放",
    "preparing_replay": "运行结束：正在准备回放…（q：不看回放直接退出）",
    "longest": "最长",
    "server_exited": "运行结束：{who} 自行退出（退出码 {code}）：回放到此为止的运行",
    "help_title": "按键",
    "key_view": "切换视图：按请求 / 按工作线程",
    "key_play": "播放 / 暂停",
    "key_slower": "减速（最低 0.1×）",
    "key_faster": "加速（最高 10×）",
    "key_prev_event": "光标移到上一个事件",
    "key_next_event": "光标移到下一个事件",
    "key_next_blocked": "光标移到下一个 loop.blocked",
    "key_next_mark": "光标移到下一个书签",
    "key_caption": "显示完整说明 / 只显示前几行",
    "key_zoom_in": "放大（以光标为中心）",
    "key_zoom_out": "缩小",
    "key_fit": "显示整个记录",
    "key_pan_left": "向左平移",
    "key_pan_right": "向右平移",
    "key_home": "光标移到开头",
    "key_end": "光标移到结尾",
    "key_up": "选择上一条泳道",
    "key_down": "选择下一条泳道",
    "key_page_up": "向上翻一页并选择",
    "key_page_down": "向下翻一页并选择",
    "key_next_timeline": "对比：按键作用于另一个记录",
    "key_detail": "打开 / 关闭详情面板",
    "key_close": "关闭详情面板 / 本页面",
    "key_detail_up": "详情面板向上滚动",
    "key_detail_down": "详情面板向下滚动",
    "key_detail_page_up": "详情面板向上翻一页",
    "key_detail_page_down": "详情面板向下翻一页",
    "key_screenshot": "保存 SVG 截图",
    "key_help": "本页面",
    "key_quit": "退出",
    "key_copy": "复制用鼠标选中的文字",
    # No space after a full-width semicolon: the help wraps this line after its clauses
    # (``tracer.tui.help.ClauseFlow``), never inside "ctrl".
    "mouse": "鼠标：点击泳道选中并打开其详情（点在时间区还会把光标移到该处）；拖动平移；"
    "滚轮滚动泳道；shift+滚轮平移；ctrl+滚轮缩放",
    "not_saved": "无法保存 {where}：{why}",
    "speed_note": "速度 1× 时光标在 10 秒内走过可见窗口",
    "saved": "已保存",
    "no_further_blocked": "后面没有 loop.blocked 了",
    "no_further_mark": "后面没有书签了",
    "caption_more": "c：更多",
}

LABELS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {"en": MappingProxyType(_EN), "zh": MappingProxyType(_ZH)}
)
"""Language code -> label key -> text."""

LANGUAGES: tuple[str, ...] = tuple(LABELS)
"""The languages the UI speaks (the ``--lang`` choices)."""


def labels(lang: str = "en") -> Mapping[str, str]:
    """The labels of one language; an unknown language falls back to English."""
    return LABELS.get(lang, LABELS["en"])


def headed(words: Mapping[str, str], key: str) -> str:
    """The label at ``key`` as a heading before what follows it: ``scope: `` in English,
    ``作用域：`` in Chinese (a full-width colon, no space after it)."""
    return f"{words[key]}{words['colon']}"
