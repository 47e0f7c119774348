"""A host process for the benchmarks: imports generated code, optionally starts the agent, obeys stdin.

Prints one JSON line once ready: ``{"pid", "address", "token", "import_ms", "package_import_ms",
"listen_ms", "package_import_cpu_ms", "listen_cpu_ms", "listen_start"}``: the time to import the
generated modules, ``reload_agent`` (or the bare server) and to call ``listen()`` (wall, and CPU
time of the calling thread); ``listen_start`` is ``perf_counter()`` just before that import
(CLOCK_MONOTONIC, comparable across processes on Linux). Then answers one JSON line per command on stdin:

- ``{"op": "rss"}`` -> ``{"rss": bytes}`` after a full garbage collection;
- ``{"op": "call", "module": M, "function": F}`` -> ``{"value": ...}``;
- ``{"op": "reload", "module": M}`` -> ``{"ms": ...}``: ``importlib.reload`` here, the floor;
- ``{"op": "expect", "module": M, "expect": {F: value}}`` -> ``{"ready": true}``, then ``{"seen": perf_counter()}``
  once every ``M.F()`` returns its value (the parent saves the file in between; used with ``--watch``);
- end of input -> the agent is stopped and the host exits.

    python bench/agent_host.py --path DIR --import mod_a [--tree ROOT PKG N] [--no-hook|--no-agent|--bare]
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--path", action="append", default=[])
    parser.add_argument("--import", dest="imports", action="append", default=[])
    parser.add_argument("--tree", nargs=3, metavar=("ROOT", "PACKAGE", "COUNT"))
    parser.add_argument("--history", type=int, default=10)
    parser.add_argument("--watch", action="append", default=[], help="paths the agent watches")
    parser.add_argument("--no-hook", action="store_true", help="embedding: no import hook before listen()")
    parser.add_argument("--no-agent", action="store_true", help="baseline: the same host without an agent")
    parser.add_argument("--bare", action="store_true", help="baseline: a bare JSON-RPC server thread instead")
    args = parser.parse_args()

    with_agent = not (args.no_agent or args.bare)
    if with_agent and not args.no_hook:
        # As the launcher does: record every module's source from the start.
        from reload_agent.engine import install_import_hook

        install_import_hook()
    sys.path[:0] = args.path
    start = time.perf_counter()
    for name in args.imports:
        importlib.import_module(name)
    if args.tree:
        root, package, count = args.tree
        sys.path.insert(0, root)
        per = 100
        for i in range(int(count)):
            importlib.import_module(f"{package}.p{i // per:03d}.m{i:05d}")
    import_ms = (time.perf_counter() - start) * 1000

    address = token = None
    agent = None
    listen_start = time.perf_counter()
    cpu_start = time.thread_time()
    if with_agent:
        import reload_agent

        imported, cpu_imported = time.perf_counter(), time.thread_time()
        agent = reload_agent.listen("127.0.0.1:0", history=args.history, watch=args.watch)
        address, token = agent.address, agent.token
    elif args.bare:
        import bare_jsonrpc

        imported, cpu_imported = time.perf_counter(), time.thread_time()
        address = bare_jsonrpc.start_in_thread()
    else:
        imported, cpu_imported = time.perf_counter(), time.thread_time()
    done, cpu_done = time.perf_counter(), time.thread_time()
    print(json.dumps({"pid": os.getpid(), "address": address, "token": token, "import_ms": import_ms,
                      "package_import_ms": (imported - listen_start) * 1000, "listen_ms": (done - imported) * 1000,
                      "package_import_cpu_ms": (cpu_imported - cpu_start) * 1000,
                      "listen_cpu_ms": (cpu_done - cpu_imported) * 1000, "listen_start": listen_start}), flush=True)

    for line in sys.stdin:
        request = json.loads(line)
        op = request["op"]
        if op == "rss":
            gc.collect()
            reply = {"rss": _rss()}
        elif op == "call":
            reply = {"value": getattr(sys.modules[request["module"]], request["function"])()}
        elif op == "expect":
            # Save-to-running for a watcher: the parent saves after "ready"; poll until the new bodies run.
            print(json.dumps({"ready": True}), flush=True)
            module = sys.modules[request["module"]]
            deadline = time.monotonic() + request.get("timeout", 20)
            seen = None
            while time.monotonic() < deadline:
                if all(getattr(module, f)() == v for f, v in request["expect"].items()):
                    seen = time.perf_counter()
                    break
                time.sleep(0.0005)
            reply = {"seen": seen}
        elif op == "reload":
            t0 = time.perf_counter()
            importlib.reload(sys.modules[request["module"]])
            reply = {"ms": (time.perf_counter() - t0) * 1000}
        else:
            reply = {"error": f"unknown op {op}"}
        print(json.dumps(reply), flush=True)
    if agent is not None:
        agent.stop()


if __name__ == "__main__":
    main()
