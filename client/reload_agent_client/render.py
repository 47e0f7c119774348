"""Human-readable output of ``reload-agent-cli``: tables and one-line reports.

Pure functions from protocol results (plain dicts) to text, so every format is
unit-testable without an agent. Scripts should use ``--json`` instead: these
lines are for people and may change.

>>> print(format_reload({"transaction": 3, "durationMs": 0.81, "modules": [
...     {"name": "app.views", "mode": "patch", "version": 2,
...      "patched": {"functions": ["index"], "classes": []}, "replaced": []}]}))
reloaded app.views (patch: 1 function) in 0.81 ms [transaction 3]
>>> print(table(["A", "BB"], [["1", "x"], ["22", "y"]]))
A   BB
1   x
22  y
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "table",
    "format_agents",
    "format_modules",
    "format_reload",
    "format_failure",
    "format_rollback",
    "format_history",
    "format_status",
    "read_source_line",
]

ROLLED_BACK = "rolled back, process unchanged"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns separated by two spaces; trailing blanks trimmed."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row)]
    lines = []
    for row in [list(headers), *rows]:
        lines.append("  ".join(cell.ljust(w) for w, cell in zip(widths, row)).rstrip())
    return "\n".join(lines)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 'es' if word.endswith('s') else 's'}"


def _ms(value: Any) -> str:
    try:
        return f"{float(value):.3g} ms"
    except (TypeError, ValueError):
        return "? ms"


def format_agents(agents: Sequence[dict[str, Any]]) -> str:
    """Table of connection-file entries (``agents``)."""
    if not agents:
        return "no running agents"
    rows = [[str(a["pid"]), a["address"], a.get("started", ""), a.get("cwd", ""), " ".join(a.get("argv", []))] for a in agents]
    return table(["PID", "ADDRESS", "STARTED", "CWD", "COMMAND"], rows)


def format_modules(modules: Sequence[dict[str, Any]]) -> str:
    """Table of ``listModules`` entries."""
    if not modules:
        return "no matching modules"
    rows = [
        [
            m["name"],
            str(m.get("version", "")),
            "stale" if m.get("stale") else "",
            "" if m.get("reloadable", True) else "no",
            m.get("file") or "",
        ]
        for m in modules
    ]
    return table(["MODULE", "VERSION", "STALE", "RELOADABLE", "FILE"], rows)


def _module_summary(module: dict[str, Any]) -> str:
    patched = module.get("patched") or {}
    parts = []
    functions = len(patched.get("functions") or [])
    classes = len(patched.get("classes") or [])
    if functions:
        parts.append(_plural(functions, "function"))
    if classes:
        parts.append(_plural(classes, "class"))
    detail = ", ".join(parts) if parts else "nothing patched"
    return f"{module['name']} ({module.get('mode', '?')}: {detail})"


def format_reload(result: dict[str, Any]) -> str:
    """One line for the transaction, plus one indented line per replaced object."""
    modules = result.get("modules") or []
    names = ", ".join(_module_summary(m) for m in modules) or "nothing"
    verb = "would reload" if result.get("dryRun") else "reloaded"
    lines = [f"{verb} {names} in {_ms(result.get('durationMs'))} [transaction {result.get('transaction')}]"]
    for module in modules:
        if module.get("reason"):
            lines.append(f"  {module['name']}: {module['reason']}")
        for replaced in module.get("replaced") or []:
            lines.append(f"  replaced {replaced['name']}: {replaced['reason']}")
    return "\n".join(lines)


def read_source_line(path: str | None, line: int | None, sources: dict[str, str] | None = None) -> str | None:
    """The stripped text of ``path:line`` from ``sources`` (pushed text) or the local file."""
    if not path or not line or line < 1:
        return None
    text = (sources or {}).get(path)
    if text is None:
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
        except OSError:
            return None
    lines = text.splitlines()
    return lines[line - 1].strip() or None if line <= len(lines) else None


def format_failure(
    data: dict[str, Any] | None,
    message: str,
    source_line: Callable[[str | None, int | None], str | None] = read_source_line,
) -> str:
    """The exception, ``file:line``, the source line and whether the process was restored."""
    data = data or {}
    exc = data.get("exception") or {}
    what = f"{exc['type']}: {exc.get('message', '')}" if exc.get("type") else message
    where = [f"phase {data['phase']}"] if data.get("phase") else []
    if data.get("module"):
        where.append(f"module {data['module']}")
    head = f"reload failed: {what}"
    if where:
        head += f" ({', '.join(where)})"
    lines = [head]
    if exc.get("file"):
        location = f"{exc['file']}:{exc['line']}" if exc.get("line") else exc["file"]
        lines.append(f"  at {location}")
        text = source_line(exc.get("file"), exc.get("line"))
        if text:
            lines.append(f"    {exc.get('line')} | {text}")
    if data.get("rolledBack", True):
        lines.append(ROLLED_BACK)
    else:
        lines.append("NOT rolled back: the process may be partly changed")
    return "\n".join(lines)


def format_rollback(result: dict[str, Any]) -> str:
    """One line: what was undone and each module's version now."""
    modules = ", ".join(f"{m['name']} -> version {m['version']}" for m in result.get("modules") or []) or "nothing"
    return (
        f"rolled back transaction {result.get('rolledBack')}: {modules} "
        f"in {_ms(result.get('durationMs'))} [transaction {result.get('transaction')}]"
    )


def format_history(transactions: Sequence[dict[str, Any]]) -> str:
    """Table of transactions; the note says why a failed one failed."""
    if not transactions:
        return "no transactions yet"
    rows = []
    for t in transactions:
        note = "rolled back" if t.get("rolledBack") else ""
        error = t.get("error") or {}
        exc = error.get("exception") if isinstance(error, dict) else None
        if exc:
            note = f"{exc.get('type')}: {exc.get('message', '')}"
        rows.append(
            [
                str(t.get("id")),
                str(t.get("time", "")),
                str(t.get("kind", "reload")),
                "ok" if t.get("ok") else "FAILED",
                ", ".join(t.get("modules") or []),
                _ms(t.get("durationMs")),
                note,
            ]
        )
    return table(["ID", "TIME", "KIND", "RESULT", "MODULES", "DURATION", "NOTE"], rows)


def format_status(status: dict[str, Any]) -> str:
    """``key: value`` lines of the agent's status."""
    watching = status.get("watching")
    if isinstance(watching, (list, tuple)):
        watching = ", ".join(map(str, watching)) or "nothing"
    rows = [
        ("pid", status.get("pid")),
        ("version", status.get("version")),
        ("uptime", f"{float(status.get('uptimeS', 0)):.1f} s"),
        ("modules", status.get("modules")),
        ("transactions", status.get("transactions")),
        ("clients", status.get("clients")),
        ("watching", watching),
    ]
    return "\n".join(f"{key + ':':<14}{value}" for key, value in rows)
