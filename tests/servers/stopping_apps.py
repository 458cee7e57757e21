"""An ASGI app whose 3rd request stops the event loop it runs on, as source to write into a
test's folder and import from there (shared by the loop model's tests and the summary's)."""

STOPS_LOOP_ON_3RD = """
import asyncio

served = [0]


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    served[0] += 1
    if served[0] == 3:
        asyncio.get_running_loop().stop()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})
"""
