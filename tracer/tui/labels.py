"""Every label the UI shows, one dict per language (``en``, ``zh``).

Widgets never spell user-visible words themselves: they look them up here, so a demo can run
the whole UI in Chinese (``lang="zh"``). Rich measures CJK text in terminal cells, so lane
labels and the legend stay aligned whatever the language. Imports nothing of ours.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["LABELS", "LANGUAGES", "labels"]

_EN: dict[str, str] = {
    # phases (legend, detail pane)
    "queued": "queued",
    "running": "running",
    "waiting": "waiting",
    "blocked": "blocked loop",
    "sending": "sending",
    "error": "error",
    "violation": "violation",
    "idle": "idle",
    # views
    "by_request": "by request",
    "by_worker": "by worker",
    "view": "view",
    # status bar
    "playing": "playing",
    "paused": "paused",
    "speed": "speed",
    "cursor": "cursor",
    "per_cell": "per cell",
    "help_hint": "? keys",
    "no_requests": "This recording holds no requests.",
    "truncated": "truncated: the run was interrupted",
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
    # detail pane
    "detail": "detail",
    "scope": "scope",
    "environ": "environ",
    "phases": "time spent",
    "events": "events",
    "delayed_by": "what delayed it",
    "queued_for": "waited for a worker",
    "queued_for_loop": "waited for the loop",
    "held_by": "loop held by",
    "blocked_loop_for": "blocked the loop for",
    "waiting_io": "waiting (awaits / I/O)",
    "cpu_share": "on CPU",
    "nothing_delayed": "nothing: it ran as soon as it arrived",
    "lane_busy": "busy",
    "lane_requests": "requests served",
    "at_cursor": "at the cursor",
    "more_events": "more events not shown",
    # live dashboard
    "live": "live",
    "progress": "progress",
    "histogram": "latency histogram",
    "sparkline": "requests per second",
    "recent": "most recent requests",
    "stopping": "stopping: waiting for the run to flush…",
    "run_done": "run finished: replay of the whole run",
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
    "key_zoom_in": "zoom in (around the cursor)",
    "key_zoom_out": "zoom out",
    "key_fit": "fit the whole recording",
    "key_pan_left": "pan left",
    "key_pan_right": "pan right",
    "key_home": "cursor to the start",
    "key_end": "cursor to the end",
    "key_up": "select the lane above",
    "key_down": "select the lane below",
    "key_detail": "open / close the detail pane",
    "key_close": "close the detail pane / this screen",
    "key_screenshot": "save an SVG screenshot",
    "key_help": "this screen",
    "key_quit": "quit",
    "mouse": "mouse: click a lane to select it and move the cursor; drag to pan; "
    "wheel scrolls lanes; shift+wheel pans; ctrl+wheel zooms",
    "speed_note": "speed 1× moves the cursor across the visible window in 10 s",
    "saved": "saved",
}

_ZH: dict[str, str] = {
    "queued": "排队",
    "running": "运行",
    "waiting": "等待",
    "blocked": "阻塞循环",
    "sending": "发送",
    "error": "错误",
    "violation": "违规",
    "idle": "空闲",
    "by_request": "按请求",
    "by_worker": "按工作者",
    "view": "视图",
    "playing": "播放中",
    "paused": "已暂停",
    "speed": "速度",
    "cursor": "光标",
    "per_cell": "每格",
    "help_hint": "? 按键",
    "no_requests": "此记录中没有请求。",
    "truncated": "已截断：运行被中断",
    "requests": "请求",
    "rps": "每秒请求",
    "errors": "错误",
    "violations": "违规",
    "queue": "排队",
    "loop_blocked": "循环阻塞",
    "in_flight": "进行中",
    "max_in_flight": "最大并发",
    "latency": "延迟",
    "wall": "总时长",
    "detail": "详情",
    "scope": "作用域",
    "environ": "environ",
    "phases": "时间分布",
    "events": "事件",
    "delayed_by": "延迟原因",
    "queued_for": "等待工作线程",
    "queued_for_loop": "等待事件循环",
    "held_by": "事件循环被占用",
    "blocked_loop_for": "阻塞事件循环",
    "waiting_io": "等待（await / I/O）",
    "cpu_share": "CPU 占用",
    "nothing_delayed": "无：到达后立即运行",
    "lane_busy": "忙碌",
    "lane_requests": "处理的请求",
    "at_cursor": "光标处",
    "more_events": "更多事件未显示",
    "live": "实时",
    "progress": "进度",
    "histogram": "延迟直方图",
    "sparkline": "每秒请求数",
    "recent": "最近的请求",
    "stopping": "正在停止：等待记录写完…",
    "run_done": "运行结束：整个运行的回放",
    "help_title": "按键",
    "key_view": "切换视图：按请求 / 按工作者",
    "key_play": "播放 / 暂停",
    "key_slower": "减速（最低 0.1×）",
    "key_faster": "加速（最高 10×）",
    "key_prev_event": "光标移到上一个事件",
    "key_next_event": "光标移到下一个事件",
    "key_next_blocked": "光标移到下一个 loop.blocked",
    "key_next_mark": "光标移到下一个书签",
    "key_zoom_in": "放大（以光标为中心）",
    "key_zoom_out": "缩小",
    "key_fit": "显示整个记录",
    "key_pan_left": "向左平移",
    "key_pan_right": "向右平移",
    "key_home": "光标移到开头",
    "key_end": "光标移到结尾",
    "key_up": "选择上一条泳道",
    "key_down": "选择下一条泳道",
    "key_detail": "打开 / 关闭详情面板",
    "key_close": "关闭详情面板 / 本页面",
    "key_screenshot": "保存 SVG 截图",
    "key_help": "本页面",
    "key_quit": "退出",
    "mouse": "鼠标：点击泳道选中并移动光标；拖动平移；滚轮滚动泳道；shift+滚轮平移；ctrl+滚轮缩放",
    "speed_note": "速度 1× 时光标在 10 秒内走过可见窗口",
    "saved": "已保存",
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
