"""``python -m reload_agent``: the program runs as under plain ``python``, with an agent inside."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from reload_agent_client.protocol import METHOD_RELOAD, METHOD_STATUS, NOTIFY_DID_RELOAD
from tests.support.agents import host_env, wait_for, write_files

REPORT = """\
import json, os, sys
import helper
print(json.dumps({
    "argv": sys.argv,
    "name": __name__,
    "path0": sys.path[0],
    "file": __file__,
    "main_is_me": sys.modules["__main__"].__dict__ is globals(),
    "helper": helper.__file__,
    "agent_file": any(n.startswith("agent-") for n in os.listdir(os.environ["RELOAD_AGENT_RUNTIME_DIR"])),
}))
sys.exit(int(os.environ.get("EXIT_CODE", "0")))
"""


def run(tmp_path: Path, *argv: str, env: dict[str, str] | None = None, cwd: Path | None = None):
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700, exist_ok=True)
    return subprocess.run(
        [sys.executable, *argv], cwd=cwd or tmp_path, env=host_env(tmp_path, runtime, env),
        capture_output=True, text=True, timeout=60,
    )


def test_script_sees_what_python_would_give_it(tmp_path):
    write_files(tmp_path, {"prog/app.py": REPORT, "prog/helper.py": "X = 1\n"})
    proc = run(tmp_path, "-m", "reload_agent", "--quiet", "prog/app.py", "--listen", "x", "-m", "y",
               env={"EXIT_CODE": "3"})
    assert proc.returncode == 3, proc.stderr
    report = json.loads(proc.stdout)
    assert report["argv"] == ["prog/app.py", "--listen", "x", "-m", "y"]
    assert report["name"] == "__main__"
    assert report["path0"] == str(tmp_path / "prog")
    assert report["file"] == str(tmp_path / "prog" / "app.py")
    assert report["main_is_me"] is True
    assert report["helper"] == str(tmp_path / "prog" / "helper.py")
    assert report["agent_file"] is True
    assert proc.stderr == ""  # --quiet
    # Plain python gives the same view (apart from the agent).
    plain = json.loads(run(tmp_path, "prog/app.py", "--listen", "x", "-m", "y").stdout)
    assert {k: v for k, v in plain.items() if k != "agent_file"} == \
        {k: v for k, v in report.items() if k != "agent_file"}
    assert not list((tmp_path / "run").iterdir())  # the connection file went away at exit


def test_module_and_package_main(tmp_path):
    write_files(tmp_path, {"pkg/__init__.py": "", "pkg/tool.py": REPORT, "pkg/__main__.py": REPORT,
                           "helper.py": "X = 1\n"})
    proc = run(tmp_path, "-m", "reload_agent", "--quiet", "-m", "pkg.tool", "a", "--b")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["argv"] == [str(tmp_path / "pkg" / "tool.py"), "a", "--b"]
    assert report["name"] == "__main__" and report["main_is_me"] is True
    assert report["path0"] == str(tmp_path)
    proc = run(tmp_path, "-m", "reload_agent", "--quiet", "-m", "pkg")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["argv"] == [str(tmp_path / "pkg" / "__main__.py")]


def test_uncaught_exception_prints_traceback_and_exits_1(tmp_path):
    write_files(tmp_path, {"boom.py": "def f():\n    raise KeyError('missing')\n\nf()\n"})
    proc = run(tmp_path, "-m", "reload_agent", "--quiet", "boom.py")
    assert proc.returncode == 1
    assert "Traceback (most recent call last)" in proc.stderr
    assert f'File "{tmp_path / "boom.py"}", line 4, in <module>' in proc.stderr
    assert proc.stderr.strip().endswith("KeyError: 'missing'")
    assert "reload_agent" not in proc.stderr  # the launcher's own frames are not shown


def test_start_up_line_names_address_and_connection_file(tmp_path):
    write_files(tmp_path, {"hello.py": "print('hi')\n"})
    proc = run(tmp_path, "-m", "reload_agent", "--listen", "127.0.0.1:0", "--token", "t", "hello.py")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "hi\n"
    [line] = proc.stderr.splitlines()
    assert line.startswith("reload-agent: listening on 127.0.0.1:")
    assert str(tmp_path / "run" / "agent-") in line


def test_usage_errors(tmp_path):
    assert run(tmp_path, "-m", "reload_agent").returncode == 2
    assert run(tmp_path, "-m", "reload_agent", "--apply", "sideways", "x.py").returncode == 2
    missing = run(tmp_path, "-m", "reload_agent", "--quiet", "nope.py")
    assert missing.returncode == 2 and "nope.py" in missing.stderr


LIVE = """\
import pathlib, time
import mod_a

def answer():
    return 1

while not pathlib.Path("stop").exists():
    pathlib.Path("answer.txt").write_text(f"{answer()} {mod_a.value()}")
    time.sleep(0.005)
"""
MOD_A = "def value():\n    return 10\n"


def test_launched_script_is_patched_live(launched, clients):
    host = launched("live.py", LIVE, files={"mod_a.py": MOD_A})
    client = clients(host.address, host.token)
    wait_for(lambda: read(host.workdir / "answer.txt") == "1 10", what="the program to run")
    # __main__ reloads in patch mode: the running loop starts calling the new answer().
    (host.workdir / "live.py").write_text(LIVE.replace("return 1", "return 2"))
    response = client.request(METHOD_RELOAD, {"modules": ["__main__"]})
    assert response["result"]["modules"][0]["mode"] == "patch", response
    wait_for(lambda: read(host.workdir / "answer.txt") == "2 10", what="the new answer()")
    (host.workdir / "stop").write_text("")
    assert host.wait(30) == 0


def test_watch_mode_reloads_an_edited_module(launched, clients):
    host = launched("live.py", LIVE, files={"mod_a.py": MOD_A}, options=["--watch", "."])
    client = clients(host.address, host.token)
    wait_for(lambda: read(host.workdir / "answer.txt") == "1 10", what="the program to run")
    (host.workdir / "notes.txt").write_text("not python: ignored")
    (host.workdir / "mod_a.py").write_text(MOD_A.replace("10", "11"))
    note = client.wait_notification(NOTIFY_DID_RELOAD)
    assert note["params"]["ok"] is True
    assert [m["name"] if isinstance(m, dict) else m for m in note["params"]["modules"]] == ["mod_a"]
    wait_for(lambda: read(host.workdir / "answer.txt") == "1 11", what="the reloaded mod_a")
    assert client.request(METHOD_STATUS)["result"]["watching"] == [str(host.workdir)]


def read(path: Path) -> str:
    try:
        return path.read_text()
    except FileNotFoundError:
        return ""
