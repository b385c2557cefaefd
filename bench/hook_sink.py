"""The hook benchmark's baseline: a server that answers every POST at once, in a process of its own.

    python bench/hook_sink.py PORT

"ready" on stdout once it listens; SIGTERM stops it. What the simulated tellers' hooks cost
without herald: booking the repayment, the HTTP round trip, nothing stored, nothing sent.
"""

from __future__ import annotations

import asyncio
import signal
import sys

from aiohttp import web


async def main(port: int) -> None:
    async def answer(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"created": 0})

    app = web.Application()
    app.router.add_post("/{tail:.*}", answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print("ready", flush=True)
    await stop.wait()
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
