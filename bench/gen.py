"""Generated code for the benchmarks: big modules with edit sites, module trees, an HTTP app.

A big module holds ordinary functions and classes plus five *edit sites*:
functions ``site_0`` .. ``site_4`` spread through the file whose body returns a
number. An edit changes only those numbers, so it is a pure body edit, and
calling ``site_k()`` tells which version is running.

>>> text = module_source(200, [1, 2, 3, 4, 5])
>>> ns = {}
>>> exec(compile(text, "m", "exec"), ns)
>>> ns["site_2"]()
3
>>> 180 <= len(text.splitlines()) <= 230
True
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

__all__ = [
    "SITES",
    "module_source",
    "write_module",
    "write_in_place",
    "write_tree",
    "write_http_app",
    "HTTP_VIEWS_MODULE",
    "views_source",
]

#: Number of edit sites in a generated module.
SITES = 5

_HEADER = '''"""Generated benchmark module: {lines} lines of ordinary code and {sites} edit sites."""
import math
import functools

SCALE = 3
'''

# Ordinary code: a function and a small class per block, about 24 lines.
_BLOCK = '''

def compute_{i}(values, factor=2):
    """Sum a transformed sequence (block {i})."""
    total = 0
    for index, value in enumerate(values):
        if index % 3 == 0:
            total += value * factor
        elif index % 3 == 1:
            total -= value // (factor or 1)
        else:
            total += int(math.sqrt(abs(value)))
    return total + {i}


class Record{i}:
    """A small record with behaviour (block {i})."""

    def __init__(self, name, size=SCALE):
        self.name = name
        self.size = size

    def describe(self):
        return f"{{self.name}}:{{self.size}}:{i}"
'''

_SITE = '''

def site_{k}():
    """Edit site {k}: the benchmark changes the number below."""
    return {{value_{k}}}
'''


def module_source(lines: int, values: Sequence[int]) -> str:
    """Source of a module about ``lines`` long whose ``site_k()`` returns ``values[k]``."""
    if len(values) != SITES:
        raise ValueError(f"need {SITES} values")
    block_lines = _BLOCK.count("\n")
    blocks = max((lines - 6 - SITES * _SITE.count("\n")) // block_lines, SITES)
    # Sites sit at 10%, 30%, 50%, 70% and 90% of the file, so an edit is never at an end.
    site_after = {int(blocks * (2 * k + 1) / (2 * SITES)): k for k in range(SITES)}
    parts = [_HEADER.format(lines=lines, sites=SITES)]
    for i in range(blocks):
        parts.append(_BLOCK.format(i=i))
        if i in site_after:
            k = site_after[i]
            parts.append(_SITE.format(k=k).format(**{f"value_{k}": values[k]}))
    return "".join(parts)


def write_in_place(path: Path, text: str, mtime_ns: int | None = None) -> None:
    """Write ``text`` in place (as most editors without atomic save do) and bump the mtime.

    The explicit, strictly increasing mtime defeats the 1 s granularity of
    ``.pyc`` validation and of mtime-based watchers, so every edit is seen.
    """
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    if mtime_ns is None:
        mtime_ns = max(time.time_ns(), path.stat().st_mtime_ns + 1_000_000_000)
    os.utime(path, ns=(mtime_ns, mtime_ns))


def write_module(directory: Path, name: str, lines: int, values: Sequence[int]) -> Path:
    """Create ``directory/name.py`` from :func:`module_source`."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.py"
    write_in_place(path, module_source(lines, values))
    return path


_LEAF = '''"""Generated module {pkg}.{name}."""

VALUE = {i}


def value():
    return VALUE * 2
'''


def write_tree(root: Path, package: str, count: int, per_package: int = 100) -> list[str]:
    """Write ``count`` small modules as ``package.pNN.mNNNN`` under ``root``; return their names."""
    names = []
    pkg_dir = root / package
    pkg_dir.mkdir(parents=True, exist_ok=True)
    (pkg_dir / "__init__.py").write_text("")
    for start in range(0, count, per_package):
        sub = f"p{start // per_package:03d}"
        sub_dir = pkg_dir / sub
        sub_dir.mkdir(exist_ok=True)
        (sub_dir / "__init__.py").write_text("")
        for i in range(start, min(start + per_package, count)):
            name = f"m{i:05d}"
            (sub_dir / f"{name}.py").write_text(_LEAF.format(pkg=f"{package}.{sub}", name=name, i=i))
            names.append(f"{package}.{sub}.{name}")
    return names


HTTP_VIEWS_MODULE = "webapp.views"

_HTTP_MODULE = '''"""Generated app module {i}: helpers the app imports at start-up."""
import json
import re

PATTERN_{i} = re.compile(r"item-{i}-(\\\\d+)")


def parse_{i}(text):
    match = PATTERN_{i}.match(text)
    return int(match.group(1)) if match else None


def render_{i}(payload):
    return json.dumps({{"module": {i}, "payload": payload}}, sort_keys=True)


class Service{i}:
    def __init__(self):
        self.calls = 0

    def handle(self, text):
        self.calls += 1
        return render_{i}(parse_{i}(text))
'''

_HTTP_MAIN = '''"""Generated HTTP app: imports {count} modules, optionally builds start-up state, serves views.hello()."""
import http.server
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import webapp.all_modules  # noqa: E402,F401  (the {count} modules)
from webapp import views  # noqa: E402

STATE = {{}}
seconds = float(os.environ.get("BENCH_STATE_SECONDS", "0"))
if seconds:
    # Stands for start-up work a restart must redo (caches, models, connections): CPU-bound on purpose.
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        STATE[len(STATE)] = hash(str(len(STATE)))


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = views.hello().encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print("PORT", server.server_address[1], flush=True)
server.serve_forever()
'''


def views_source(version: int) -> str:
    """Source of ``webapp/views.py`` answering ``version <N>``."""
    return f'''"""The view the benchmark edits."""


def hello():
    return "version {version}"
'''


def write_http_app(root: Path, count: int = 300, version: int = 0) -> Path:
    """Write the HTTP app (``app.py`` + package ``webapp`` of ``count`` modules) into ``root``; return app.py."""
    pkg = root / "webapp"
    pkg.mkdir(parents=True, exist_ok=True)
    (pkg / "__init__.py").write_text("")
    imports = []
    for i in range(count):
        (pkg / f"mod{i:03d}.py").write_text(_HTTP_MODULE.format(i=i))
        imports.append(f"from webapp import mod{i:03d}  # noqa: F401")
    (pkg / "all_modules.py").write_text('"""Imports every generated module."""\n' + "\n".join(imports) + "\n")
    write_in_place(pkg / "views.py", views_source(version))
    app = root / "app.py"
    app.write_text(_HTTP_MAIN.format(count=count))
    return app
