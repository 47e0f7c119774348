"""Baseline worker (runs in .bench-venv): jurigged watching files, from save to the new body running.

The benchmark sends ``{"expect": {"site_2": 7}}``; the worker answers
``{"ready": true}`` and then polls the functions until they return the
expected values, answering ``{"seen": perf_counter()}``. The parent saves the
file right after "ready", so seen - save time is save-to-new-body-running
(perf_counter is CLOCK_MONOTONIC, shared by all processes on Linux).
"""

from __future__ import annotations

import importlib
import json
import sys
import time


def main(directory: str, names: list[str]) -> None:
    import jurigged

    sys.path.insert(0, directory)
    # Errors to stderr, not the JSON channel; default debounce (50 ms), as users get it.
    jurigged.watch(pattern=f"{directory}/*.py", logger=lambda event: print(event, file=sys.stderr))
    modules = {name: importlib.import_module(name) for name in names}
    print(json.dumps({"ready": True, "jurigged": getattr(jurigged, "__version__", "?")}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        module = modules[request["module"]]
        expect = request["expect"]
        deadline = time.monotonic() + request.get("timeout", 20)
        print(json.dumps({"ready": True}), flush=True)
        seen = None
        while time.monotonic() < deadline:
            if all(getattr(module, site)() == value for site, value in expect.items()):
                seen = time.perf_counter()
                break
            time.sleep(0.0005)
        print(json.dumps({"seen": seen}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
