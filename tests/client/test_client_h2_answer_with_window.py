"""An HTTP/2 answer that arrives with a WINDOW_UPDATE ahead of it, in the same read: the client
sends no more of the body once the read holds the answer's END_STREAM, only its reset.

A server that takes a body it will not use gives back its window as it reads (hypercorn does,
frame by frame); its early answer then follows a WINDOW_UPDATE in one write. DATA sent for that
window reaches a server whose stream has ended: hypercorn 0.18 drops the connection on it (a
``KeyError`` in its h2 handling, which it already avoids for a late END_STREAM)."""

from __future__ import annotations

from typing import Any

from test_client_h2_upload import _RawH2Server, _responses, _serve_and_send

from tracer.recorder import Recorder

WINDOW = 65_535
"""The initial flow-control window (RFC 9113, 6.9.2): all a client may send before an update."""


class _AckThenAnswerServer(_RawH2Server):
    """Gives nothing back until a whole initial window of a stream's body has come; then gives
    it back (WINDOW_UPDATE) and answers 413 whole, in that order, in one write. Marks
    ``("answered",)`` in ``frames``: DATA after it was sent for the window given back with the
    answer (the client could send no more before it)."""

    def answer(self, stream: int) -> None:
        """Nothing at the request's headers: the answer waits for the window's worth."""

    def data_received(self, data: bytes) -> None:
        from h2.events import DataReceived, RequestReceived, StreamReset

        for event in self.h2.receive_data(data):
            if isinstance(event, RequestReceived):
                self.frames[event.stream_id] = [("headers",)]
            elif isinstance(event, DataReceived):
                got = self.frames[event.stream_id]
                got.append(("data", len(event.data)))
                taken = sum(frame[1] for frame in got if frame[0] == "data")
                if taken >= WINDOW and ("answered",) not in got:
                    # The window given back, then the answer: one write, nothing before it.
                    self.h2.increment_flow_control_window(WINDOW, event.stream_id)
                    self.h2.increment_flow_control_window(WINDOW)
                    headers = [(b":status", b"413"), (b"content-length", b"2")]
                    self.h2.send_headers(event.stream_id, headers)
                    self.h2.send_data(event.stream_id, b"no", end_stream=True)
                    got.append(("answered",))
            elif isinstance(event, StreamReset):
                self.frames[event.stream_id].append(("reset", int(event.error_code)))
        self.transport.write(self.h2.data_to_send())  # type: ignore[attr-defined]


def _after_answer(got: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return got[got.index(("answered",)) + 1 :]


def test_no_data_follows_an_answer_read_with_its_window() -> None:
    body = b"b" * (1 << 20)
    recorder = Recorder()
    outcomes, frames, open_after, connections = _serve_and_send(
        _AckThenAnswerServer, body, 3, recorder
    )
    assert outcomes == [(413, 2, None)] * 3
    assert (open_after, connections) == ([0] * 3, 1)
    for stream in (1, 3, 5):
        assert _after_answer(frames[stream]) == [("reset", 8)], frames[stream]
    for data in _responses(recorder):
        assert data["uploaded"] == WINDOW
