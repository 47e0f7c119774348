"""A host that embeds the agent with ``reload_agent.listen()``, configured by ``$HOST_CONFIG`` (JSON).

Keys: ``listen`` (address or list), ``token`` (string, or false for none), ``apply``
("thread", "main" or "loop"), ``max_message_bytes``, ``watch`` (list), ``imports``
(modules to import after ``listen()``, from the working directory). With
``apply: "main"`` the main thread sits in a ``checkpoint()`` loop (with ``gated``,
only once a file ``go`` exists in its working directory); with ``"loop"``
it runs an asyncio loop. The host exits when the file ``stop`` appears in its
working directory, after writing ``stats.json`` (what it saw of its own loop).
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.getcwd())

import reload_agent  # noqa: E402

config = json.loads(os.environ.get("HOST_CONFIG", "{}"))
stats = {"ticks": 0, "max_gap_ms": 0.0, "errors": []}


def stop_requested() -> bool:
    return os.path.exists("stop")


def finish() -> None:
    with open("stats.json", "w") as f:
        json.dump(stats, f)


async def ticker() -> None:
    # The host's own work: a 5 ms tick whose longest gap shows whether anything stalled this loop.
    last = time.perf_counter()
    while not stop_requested():
        await asyncio.sleep(0.005)
        now = time.perf_counter()
        stats["ticks"] += 1
        stats["max_gap_ms"] = max(stats["max_gap_ms"], (now - last) * 1000)
        last = now


def main() -> None:
    apply = config.get("apply", "thread")
    kwargs = {
        "token": config.get("token"),
        "watch": config.get("watch", ()),
        "max_message_bytes": config.get("max_message_bytes"),
    }
    if apply == "loop":
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        loop.set_exception_handler(lambda _loop, ctx: stats["errors"].append(str(ctx.get("message"))))
        reload_agent.listen(config.get("listen"), apply=loop, **kwargs)
    else:
        reload_agent.listen(config.get("listen"), apply=apply, **kwargs)
    for name in config.get("imports", ()):
        importlib.import_module(name)
    if apply == "loop":
        loop.run_until_complete(ticker())
    elif apply == "main":
        while not stop_requested():
            if config.get("gated") and not os.path.exists("go"):
                time.sleep(0.005)  # a host busy elsewhere: no checkpoint until the test says so
                continue
            reload_agent.checkpoint(0.01)
    else:
        while not stop_requested():
            time.sleep(0.01)
    stats["threads"] = sorted(t.name for t in threading.enumerate())
    finish()


main()
