"""Human output: what people read after each command."""

from __future__ import annotations

from reload_agent_client import render


def test_reload_line_names_mode_modules_counts_and_time():
    result = {
        "transaction": 7,
        "durationMs": 1.234,
        "modules": [
            {"name": "a", "mode": "patch", "version": 2, "patched": {"functions": ["f", "g"], "classes": []}, "replaced": []},
            {
                "name": "b",
                "mode": "full",
                "version": 1,
                "patched": {"functions": ["h"], "classes": ["C"]},
                "replaced": [{"name": "b.P", "reason": "dataclass fields changed"}],
                "reason": "module statements changed",
            },
        ],
    }
    text = render.format_reload(result)
    first, *rest = text.splitlines()
    assert first == "reloaded a (patch: 2 functions), b (full: 1 function, 1 class) in 1.23 ms [transaction 7]"
    assert rest == ["  b: module statements changed", "  replaced b.P: dataclass fields changed"]


def test_failure_names_exception_location_source_line_and_rollback(tmp_path):
    src = tmp_path / "views.py"
    src.write_text("def index():\n    return 1 +\n")
    data = {
        "transaction": 3,
        "phase": "compile",
        "module": "app.views",
        "exception": {"type": "SyntaxError", "message": "invalid syntax", "file": str(src), "line": 2, "column": 15, "traceback": []},
        "rolledBack": True,
    }
    assert render.format_failure(data, "reload failed").splitlines() == [
        "reload failed: SyntaxError: invalid syntax (phase compile, module app.views)",
        f"  at {src}:2",
        "    2 | return 1 +",
        "rolled back, process unchanged",
    ]


def test_failure_uses_pushed_text_when_the_file_is_not_local():
    data = {"exception": {"type": "NameError", "message": "x", "file": "/remote/m.py", "line": 1}, "rolledBack": True}
    text = render.format_failure(data, "m", lambda f, n: render.read_source_line(f, n, {"/remote/m.py": "boom()\n"}))
    assert "    1 | boom()" in text.splitlines()


def test_tables_for_modules_history_agents():
    modules = render.format_modules(
        [{"name": "pkg.mod", "file": "/x/pkg/mod.py", "stale": True, "version": 2, "reloadable": True}]
    ).splitlines()
    assert modules[0].split() == ["MODULE", "VERSION", "STALE", "RELOADABLE", "FILE"]
    assert modules[1].split() == ["pkg.mod", "2", "stale", "/x/pkg/mod.py"]
    history = render.format_history(
        [
            {"id": 1, "time": "t", "kind": "reload", "modules": ["a"], "ok": True, "durationMs": 2, "rolledBack": True},
            {"id": 2, "time": "t", "modules": ["a"], "ok": False, "durationMs": 1,
             "error": {"exception": {"type": "SyntaxError", "message": "bad"}}},
        ]
    ).splitlines()
    assert "rolled back" in history[1] and "FAILED" in history[2] and "SyntaxError: bad" in history[2]
    assert render.format_agents([]) == "no running agents"


def test_rollback_and_status_lines():
    line = render.format_rollback({"transaction": 5, "rolledBack": 4, "modules": [{"name": "a", "version": 1}], "durationMs": 0.5})
    assert line == "rolled back transaction 4: a -> version 1 in 0.5 ms [transaction 5]"
    status = render.format_status({"pid": 9, "version": "0.1.0", "uptimeS": 3.21, "modules": 4, "transactions": 1,
                                   "clients": 2, "watching": ["/src"]})
    assert "uptime:       3.2 s" in status and "watching:     /src" in status
