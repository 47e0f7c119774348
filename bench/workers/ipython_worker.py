"""Baseline worker (runs in .bench-venv): IPython's ``%autoreload 2`` applying edits in-process.

Driven through the extension's own hook, the ``pre_run_cell`` event handler IPython
calls before every cell, so what is timed is exactly what a user waits for
between saving and the next cell running the new body (the cell itself excluded).
Protocol on stdin/stdout, one JSON object a line:
``{"text": SOURCE, "expect": {"site_2": 7}}`` -> ``{"ms": ..., "deduper": bool}``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gen import write_in_place  # noqa: E402


def main(directory: str, names: list[str]) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    sys.path.insert(0, directory)
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "autoreload")
    shell.run_line_magic("autoreload", "2")
    shell.run_cell("import " + ", ".join(names), silent=True)
    magics = shell.magics_manager.registry["AutoreloadMagics"]
    # As when the user runs the next cell: the hook records the imported modules' sources.
    magics.pre_run_cell(None)
    deduper = magics._reloader.deduper_reloader
    used_deduper = []
    original = deduper.maybe_reload_module

    def tracking(module):  # records whether the fast path handled the edit
        handled = original(module)
        used_deduper.append(bool(handled))
        return handled

    deduper.maybe_reload_module = tracking
    print(json.dumps({"ready": True, "ipython": __import__("IPython").__version__}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        module = sys.modules[request["module"]]
        write_in_place(Path(module.__file__), request["text"])
        used_deduper.clear()
        start = time.perf_counter()
        magics.pre_run_cell(None)
        values = {site: getattr(module, site)() for site in request["expect"]}
        elapsed = time.perf_counter() - start
        print(json.dumps({"ms": elapsed * 1000, "ok": values == request["expect"],
                          "deduper": all(used_deduper) and bool(used_deduper)}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
