"""Discrete-event simulator of server concurrency models; emits gateway-trace recordings.

Imports only the spine of ``tracer`` (events, recording, recorder, errors, summary).
"""

__all__: list[str] = []
