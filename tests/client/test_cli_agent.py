"""Every agent subcommand against a real host: exit codes, --json shapes, human output."""

from __future__ import annotations

import json

from clienthost import App, views_source


def json_doc(proc) -> dict:
    """The single JSON document on stdout (json.loads fails on anything more)."""
    return json.loads(proc.stdout)


def test_status_list_history_human_and_json(app: App):
    status = app.cli("status")
    assert status.returncode == 0, status.stderr
    assert f"pid:          {app.host.pid}" in status.stdout
    doc = json_doc(app.cli("status", "--json"))
    assert doc["pid"] == app.host.pid and {"uptimeS", "modules", "transactions", "clients", "watching"} <= set(doc)

    listing = app.cli("list", "app.*")
    assert listing.returncode == 0
    lines = listing.stdout.splitlines()
    assert lines[0].split()[:3] == ["MODULE", "VERSION", "STALE"]
    assert [line.split()[0] for line in lines[1:]] == ["app.models", "app.views"]
    [views] = json_doc(app.cli("--json", "list", "app.v*"))["modules"]
    assert views == {"name": "app.views", "file": str(app.root / "app/views.py"), "stale": False, "version": 0,
                     "reloadable": True}

    app.write("app/views.py", views_source("'x'"))
    [stale] = json_doc(app.cli("list", "--stale", "--json"))["modules"]
    assert stale["name"] == "app.views" and stale["stale"] is True

    history = app.cli("history")
    assert history.returncode == 0 and history.stdout.strip() == "no transactions yet"
    assert json_doc(app.cli("history", "--json", "--limit", "3")) == {"transactions": []}


def test_reload_changes_the_host_and_reports_one_line(app: App):
    assert app.get() == "hello v1"
    app.write("app/views.py", views_source("models.GREETING + ' v2'"))
    proc = app.cli("reload", "app.views")
    assert proc.returncode == 0, proc.stderr
    [line] = proc.stdout.splitlines()
    assert line.startswith("reloaded app.views (patch: 1 function) in ") and line.endswith("[transaction 1]")
    assert " ms " in line
    assert app.get() == "hello v2"

    app.write("app/views.py", views_source("models.GREETING + ' v3'"))
    doc = json_doc(app.cli("--json", "reload", "--file", "app/views.py", "--mode", "full"))
    assert set(doc) >= {"transaction", "modules", "durationMs"}
    [module] = doc["modules"]
    assert (module["name"], module["mode"], module["version"]) == ("app.views", "full", 2)
    assert app.get() == "hello v3"
    [entry, *_] = json_doc(app.cli("history", "--json"))["transactions"]
    assert entry["ok"] is True


def test_syntax_error_exit_1_names_file_line_source_and_leaves_the_host_alone(app: App):
    path = app.write("app/views.py", "from app import models\n\n\ndef message():\n    return models.GREETING +\n")
    proc = app.cli("reload", "app.views")
    assert proc.returncode == 1
    assert proc.stdout == ""
    err = proc.stderr.splitlines()
    assert err[0].startswith("reload failed: SyntaxError: ") and "phase compile" in err[0]
    assert f"  at {path}:5" in err
    assert "    5 | return models.GREETING +" in err
    assert err[-1] == "rolled back, process unchanged"
    assert app.get() == "hello v1"

    doc = json_doc(app.cli("reload", "app.views", "--json"))
    error = doc["error"]
    assert error["code"] == -32010
    assert error["data"]["phase"] == "compile" and error["data"]["rolledBack"] is True
    assert (error["data"]["exception"]["type"], error["data"]["exception"]["line"]) == ("SyntaxError", 5)


def test_runtime_error_at_import_time_is_reported_with_its_line(app: App):
    path = app.write("app/views.py", views_source("'never'") + "\nraise RuntimeError('bad config')\n")
    proc = app.cli("reload", "app.views", "--mode", "full")
    assert proc.returncode == 1
    assert "reload failed: RuntimeError: bad config" in proc.stderr
    assert f"  at {path}:7" in proc.stderr and "7 | raise RuntimeError('bad config')" in proc.stderr
    assert app.get() == "hello v1"


def test_rollback_restores_behaviour_and_nothing_left_is_exit_1(app: App):
    app.write("app/views.py", views_source("'v2'"))
    assert app.cli("reload", "app.views").returncode == 0
    assert app.get() == "v2"
    proc = app.cli("rollback")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("rolled back transaction 1: app.views -> version 0")
    assert app.get() == "hello v1"

    app.write("app/views.py", views_source("'v3'"))
    assert app.cli("reload", "app.views").returncode == 0
    proc = app.cli("rollback", "app.views")
    assert proc.returncode == 0, proc.stderr
    assert app.get() == "hello v1"

    proc = app.cli("rollback")
    assert proc.returncode == 1 and proc.stderr.startswith("nothing to roll back")
    doc = json_doc(app.cli("rollback", "--json"))
    assert doc["error"]["code"] == -32011


def test_rollback_of_a_named_transaction_in_json(app: App):
    app.write("app/views.py", views_source("'v2'"))
    first = json_doc(app.cli("--json", "reload", "app.views"))
    doc = json_doc(app.cli("rollback", "--transaction", str(first["transaction"]), "--json"))
    assert doc["rolledBack"] == first["transaction"]
    assert doc["modules"] == [{"name": "app.views", "version": 0}]
    assert app.get() == "hello v1"


def test_verify_failure_rolls_the_transaction_back(app: App):
    app.write("app/views.py", views_source("'BROKEN v2'"))
    proc = app.cli("reload", "app.views", "--verify", f"{json.dumps(__import__('sys').executable)} smoke.py")
    assert proc.returncode == 1
    assert "smoke: BROKEN v2" in proc.stderr  # the check ran against the reloaded host
    assert "verify failed: " in proc.stderr and "exited with 1" in proc.stderr
    assert "rolled back transaction 1, process unchanged" in proc.stderr
    assert app.get() == "hello v1"

    doc = json_doc(app.cli("--json", "reload", "app.views", "--verify", "exit 3"))
    assert doc["error"]["code"] == -32010
    assert doc["error"]["data"]["phase"] == "verify" and doc["error"]["data"]["rolledBack"] is True
    assert "exited with 3" in doc["error"]["data"]["exception"]["message"]
    assert app.get() == "hello v1"


def test_verify_success_keeps_the_reload(app: App):
    import sys

    app.write("app/views.py", views_source("'fine v2'"))
    proc = app.cli("reload", "app.views", "--verify", f"{sys.executable} smoke.py")
    assert proc.returncode == 0, proc.stderr
    assert "verified: " in proc.stdout
    assert app.get() == "fine v2"


def test_push_sends_the_local_text_not_the_agents_file(app: App, tmp_path):
    checkout = tmp_path / "checkout" / "app"
    checkout.mkdir(parents=True)
    (checkout / "views.py").write_text(views_source("'pushed from a checkout'"))
    proc = app.cli("reload", "--push", "--file", str(checkout / "views.py"))
    assert proc.returncode == 0, proc.stderr
    assert app.get() == "pushed from a checkout"
    assert "return models.GREETING" in (app.root / "app/views.py").read_text()  # the agent's file is untouched

    (checkout / "views.py").write_text("def message(:\n")
    proc = app.cli("reload", "--push", "--file", str(checkout / "views.py"))
    assert proc.returncode == 1
    assert "1 | def message(:" in proc.stderr  # the source line comes from the pushed text
    assert app.get() == "pushed from a checkout"


def test_push_by_module_name_and_unknown_module(app: App):
    app.write("app/views.py", views_source("'pushed by name'"))
    assert app.cli("reload", "app.views", "--push").returncode == 0
    assert app.get() == "pushed by name"
    proc = app.cli("reload", "no.such.module", "--push", "--json")
    assert proc.returncode == 2
    assert "not loaded" in json_doc(proc)["error"]["message"]


def test_wrong_token_is_exit_2(app: App):
    proc = app.cli("--connect", app.host.address, "--token", "wrong", "status")
    assert proc.returncode == 2 and "refused the token" in proc.stderr
    doc = json_doc(app.cli("--connect", app.host.address, "--token", "wrong", "status", "--json"))
    assert doc["error"]["code"] == -32001


def test_connect_and_environment_address(app: App):
    proc = app.cli("--connect", app.host.address, "--token", app.host.token, "--json", "status")
    assert json_doc(proc)["pid"] == app.host.pid
    proc = app.cli("status", "--json", RELOAD_AGENT_ADDRESS=app.host.address, RELOAD_AGENT_TOKEN=app.host.token)
    assert json_doc(proc)["pid"] == app.host.pid


def test_json_wire_mode_gives_the_same_answers(app: App):
    doc = json_doc(app.cli("--json", "list", "app.views", RELOAD_AGENT_CLIENT_WIRE="json"))
    assert doc["modules"][0]["name"] == "app.views"


def test_dry_run_reports_without_changing_anything(app: App):
    app.write("app/views.py", views_source("'not yet'"))
    doc = json_doc(app.cli("reload", "app.views", "--dry-run", "--json"))
    assert doc.get("dryRun") is True and doc["modules"][0]["name"] == "app.views"
    human = app.cli("reload", "app.views", "--dry-run")
    assert human.returncode == 0 and human.stdout.startswith("would reload app.views")
    assert app.get() == "hello v1"


def test_dependents_reload_the_importers_too(app: App):
    app.write("app/models.py", 'GREETING = "howdy"\n')
    doc = json_doc(app.cli("reload", "app.models", "--dependents", "--json"))
    assert {m["name"] for m in doc["modules"]} >= {"app.models", "app.views"}
    assert app.get() == "howdy v1"
