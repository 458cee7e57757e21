"""Which WebSocket close codes say a session broke (``BROKEN_CLOSE_CODES``).

The rule: a close is the server's (the app's) answer, not a failure, whatever its code, unless
the code says something broke: 1008 (policy violation) or an application's own 4000 is an
outcome to count (the summary's ``ws_close_codes``), 1011 (internal error) is an error. The
network client judges each session by it (``tracer.client.websocket``), and every part that
records a session's end follows it. Imports nothing.
"""

from __future__ import annotations

__all__ = ["BROKEN_CLOSE_CODES"]

BROKEN_CLOSE_CODES = frozenset({1002, 1003, 1006, 1007, 1009, 1010, 1011})
"""Close codes that say the session broke: protocol error (1002), data it cannot accept
(1003), abnormal closure, no close frame (1006), invalid data (1007), message too big (1009),
a required extension missing (1010), internal error (1011). Any other code (1000 normal,
1001 going away, 1005 none given, 1008 policy violation, 1012-1014, an application's
3000-4999) is an answer."""
