"""Fault matrix: every way a reload can fail leaves the host exactly as it was.

One host process imports a separate target module per fault; for each fault the
test sends the failing reload over a real socket, then compares the host's own
before/after snapshot (``hosts/probe.py``): namespace keys and the identity of
every value, the code objects behind every function and method, ``sys.modules``,
the module's behaviour, the host's threads; and checks the host loop kept running
and the agent still answers.
"""

from __future__ import annotations

import shutil
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reload_agent_client import protocol

from tests.support.agents import AgentHost, wait_for

from .kit import Probe, call, launch_host, session

BASE = '''\
"""Fault-matrix target {name}."""
import collections

STATE = {{"created": "v0"}}
REGISTRY = collections.OrderedDict(a=1)


class Thing:
    def value(self):
        return "v0-method"


def helper():
    return "v0-helper"


def probe():
    return ("v0", helper(), Thing().value(), STATE["created"])
'''

# Each fault: extra text in the module as first imported, the new source the reload sends
# (``{base}`` is the original text), and the phases the failure may be reported in.
FAULTS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "syntax_error": ("", "{base}\ndef broken(:\n    pass\n", ("compile",)),
    "deep_expression": ("", "{base}\nX = " + "-" * 100_000 + "1\n", ("compile",)),
    "exception_mid_module": ("", '''\
NEW_NAME = "added by the failed version"
STATE = {"created": "v1"}
def helper():
    return "v1-helper"
raise ValueError("boom in the middle")
def probe():
    return "never defined"
''', ("execute",)),
    "missing_import": ("", '''\
import fm_newdep
STATE = {"created": "v1"}
import no_such_module_anywhere_xyz
''', ("execute",)),
    "system_exit": ("", '''\
STATE = {"created": "v1"}
def helper():
    return "v1-helper"
raise SystemExit(3)
''', ("execute",)),
    "keyboard_interrupt": ("", '''\
STATE = {"created": "v1"}
raise KeyboardInterrupt
''', ("execute",)),
    "recursion_error": ("", '''\
STATE = {"created": "v1"}
def down(n):
    return down(n + 1)
down(0)
''', ("execute",)),
    "thread_at_import": ("", '''\
import threading
import probe as _host_probe
STATE = {"created": "v1"}
def _spin():
    for _ in range(3000):
        try:
            probe()
        except BaseException as exc:
            _host_probe.record_error("thread started by a failed reload", exc)
threading.Thread(target=_spin, name="fault-spinner", daemon=True).start()
def helper():
    return "v1-helper"
raise RuntimeError("failed after starting a thread")
''', ("execute",)),
    "dispose_hook_raises": ('''
def __reload_dispose__(data):
    data["kept"] = STATE
    raise RuntimeError("dispose refuses")
''', "{base}\nEXTRA = 1\n", ("hook",)),
    "accept_hook_raises": ("", '''{base}
def __reload_accept__(data):
    raise RuntimeError("accept refuses")
''', ("hook",)),
    "verify_hook_raises": ("", '''{base}
def helper():
    return "v1-helper"
def __reload_verify__():
    raise AssertionError("verify refuses")
''', ("verify",)),
    "verify_hook_raises_patch_only": ('''
def __reload_verify__():
    if helper() != "v0-helper":
        raise AssertionError("verify refuses a body edit")
''', "", ("verify",)),
}
FIVE = [f"fm5_{i}" for i in range(1, 6)]
ROOT = Path(__file__).resolve().parents[2]


def module_name(fault: str) -> str:
    return f"fm_{fault}"


def original_source(fault: str) -> str:
    return BASE.format(name=fault) + FAULTS[fault][0]


def new_source(fault: str) -> str:
    if fault == "verify_hook_raises_patch_only":
        return original_source(fault).replace('return "v0-helper"', 'return "v1-helper"')
    return FAULTS[fault][1].replace("{base}", original_source(fault))


def five_source(i: int, tag: str, fail: bool = False) -> str:
    dep = f"import fm5_{i - 1}\n" if i > 1 else ""
    call = f"fm5_{i - 1}.probe()" if i > 1 else "()"
    text = f'{dep}STATE = {{"n": {i}}}\n\ndef probe():\n    return ("{tag}", {call})\n'
    if tag != "v0":
        text += f'LEVEL_{i} = "{tag}"\n'  # a top-level change: forces a full reload, which runs code
    if fail:
        text += 'raise LookupError("module 3 of 5 fails")\n'
    return text


@pytest.fixture(scope="module")
def fault_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgentHost]:
    base = tmp_path_factory.mktemp("faults")
    app = base / "app"
    app.mkdir()
    for fault in FAULTS:
        (app / f"{module_name(fault)}.py").write_text(original_source(fault))
    (app / "fm_newdep.py").write_text("VALUE = 1\n")
    (app / "fm_other.py").write_text('def probe():\n    return "v0"\n')
    (app / "fm_slow.py").write_text(BASE.format(name="slow"))
    (app / "fm_warmup.py").write_text(BASE.format(name="warmup"))
    for i in range(1, 6):
        (app / f"fm5_{i}.py").write_text(five_source(i, "v0"))
    modules = [module_name(f) for f in FAULTS] + FIVE + ["fm_other", "fm_slow", "fm_warmup"]
    with launch_host(base, "fault_host.py", [str(app), *modules]) as host:
        with session(host.address, host.token) as wire:
            # Warm-up: let the agent and engine import whatever they import lazily on a first
            # success and a first failure, so sys.modules comparisons below see only the faults.
            call(wire, protocol.METHOD_RELOAD, {"modules": ["fm_warmup"], "sources": {
                "fm_warmup": BASE.format(name="warmup").replace('"v0-helper"', '"v1-helper"')}})
            warm = wire.request(protocol.METHOD_RELOAD, {"modules": ["fm_warmup"], "sources": {
                "fm_warmup": "X = 1\nraise ValueError('warm')\n"}})
            assert warm["error"]["code"] == protocol.ErrorCode.RELOAD_FAILED, warm
            call(wire, protocol.METHOD_LIST_MODULES, {})
        yield host


def app_dir(host: AgentHost) -> Path:
    return host.workdir / "app"


@pytest.fixture(scope="module")
def probe(fault_host: AgentHost) -> Probe:
    return Probe(app_dir(fault_host))


def snapshot(probe: Probe, modules: list[str]) -> dict[str, Any]:
    return probe.get("snapshot", mods=",".join(modules))


def assert_unchanged(before: dict[str, Any], after: dict[str, Any], *, ignore_threads: str = "") -> None:
    for name, old in before["modules"].items():
        new = after["modules"][name]
        assert new is not None, f"{name} left sys.modules"
        assert new["id"] == old["id"], f"{name}: a different module object in sys.modules"
        assert sorted(new["ids"]) == sorted(old["ids"]), f"{name}: namespace keys changed"
        changed = [k for k in old["ids"] if new["ids"][k] != old["ids"][k]]
        assert not changed, f"{name}: these names are bound to different objects now: {changed}"
        assert new["codes"] == old["codes"], f"{name}: code objects not restored"
        assert new["behaviour"] == old["behaviour"], name
    assert after["sys_modules"] == before["sys_modules"], (
        set(after["sys_modules"]) ^ set(before["sys_modules"]))
    threads_after = [t for t in after["threads"] if not (ignore_threads and t.startswith(ignore_threads))]
    assert threads_after == before["threads"]
    assert after["errors"] == before["errors"], after["errors"]


def assert_host_and_agent_alive(host: AgentHost, probe: Probe, before: dict[str, Any], modules: list[str]) -> None:
    assert host.proc.poll() is None, host.stderr()
    loops = before["loops"]
    wait_for(lambda: snapshot(probe, modules)["loops"] > loops + 2, 10, what="the host's main loop to keep going")
    with session(host.address, host.token) as wire:
        status = call(wire, protocol.METHOD_STATUS)
        assert status["pid"] == host.pid
        listed = call(wire, protocol.METHOD_LIST_MODULES, {"pattern": "fm*"})["modules"]
    versions = {m["name"]: m["version"] for m in listed}
    assert all(versions[m] == 0 for m in modules), versions


def expect_failure(reply: dict[str, Any], phases: tuple[str, ...]) -> dict[str, Any]:
    assert "error" in reply, f"the reload should have failed: {reply}"
    error = reply["error"]
    assert error["code"] == protocol.ErrorCode.RELOAD_FAILED, error
    data = error["data"]
    assert data["rolledBack"] is True, data
    assert data["phase"] in phases, data
    return data


@pytest.mark.parametrize("fault", list(FAULTS))
def test_failed_reload_leaves_host_unchanged(fault: str, fault_host: AgentHost, probe: Probe) -> None:
    name = module_name(fault)
    before = snapshot(probe, [name])
    assert before["modules"][name]["behaviour"] == repr(("v0", "v0-helper", "v0-method", "v0"))
    params: dict[str, Any] = {"modules": [name], "sources": {name: new_source(fault)}}
    if fault == "dispose_hook_raises":
        params["mode"] = "full"  # dispose runs before a full reload only
    with session(fault_host.address, fault_host.token, timeout=30) as wire:
        data = expect_failure(wire.request(protocol.METHOD_RELOAD, params), FAULTS[fault][2])
    assert data["module"] == name
    assert_unchanged(before, snapshot(probe, [name]), ignore_threads="fault-spinner")
    assert_host_and_agent_alive(fault_host, probe, before, [name])


def test_failed_reload_from_disk_leaves_host_unchanged(fault_host: AgentHost, probe: Probe) -> None:
    """The same guarantee when the broken text comes from the file, as on an editor's save."""
    name = module_name("syntax_error")
    path = app_dir(fault_host) / f"{name}.py"
    before = snapshot(probe, [name])
    good = path.read_text()
    path.write_text(good + "\nif True\n    pass\n")
    try:
        with session(fault_host.address, fault_host.token) as wire:
            expect_failure(wire.request(protocol.METHOD_RELOAD, {"files": [str(path)]}), ("compile",))
    finally:
        path.write_text(good)
    assert_unchanged(before, snapshot(probe, [name]))
    assert_host_and_agent_alive(fault_host, probe, before, [name])


def test_failure_in_module_3_of_5_rolls_back_all_five(fault_host: AgentHost, probe: Probe) -> None:
    before = snapshot(probe, FIVE)
    sources = {f"fm5_{i}": five_source(i, "v1", fail=(i == 3)) for i in range(1, 6)}
    with session(fault_host.address, fault_host.token) as wire:
        data = expect_failure(
            wire.request(protocol.METHOD_RELOAD, {"modules": FIVE, "sources": sources}), ("execute",))
    assert data["module"] == "fm5_3"
    assert_unchanged(before, snapshot(probe, FIVE))
    assert_host_and_agent_alive(fault_host, probe, before, FIVE)


def test_reload_while_another_is_running(fault_host: AgentHost, probe: Probe, tmp_path: Path) -> None:
    """A slow failing reload holds the transaction; a second one waits, status does not."""
    marker, release = tmp_path / "started", tmp_path / "release"
    slow_source = BASE.format(name="slow") + textwrap.dedent(f'''
        import os, time
        STATE = {{"created": "v1"}}
        open({str(marker)!r}, "w").close()
        _deadline = time.monotonic() + 30
        while not os.path.exists({str(release)!r}) and time.monotonic() < _deadline:
            time.sleep(0.005)
        raise RuntimeError("the slow reload fails at the end")
        ''')
    before = snapshot(probe, ["fm_slow", "fm_other"])
    replies: dict[str, dict[str, Any]] = {}

    def run(key: str, method: str, params: dict[str, Any]) -> None:
        with session(fault_host.address, fault_host.token, timeout=40) as wire:
            replies[key] = wire.request(method, params)

    slow = threading.Thread(target=run, args=("slow", protocol.METHOD_RELOAD, {
        "modules": ["fm_slow"], "sources": {"fm_slow": slow_source}}))
    slow.start()
    try:
        wait_for(marker.exists, 20, what="the slow reload to start")
        second = threading.Thread(target=run, args=("second", protocol.METHOD_RELOAD, {
            "modules": ["fm_other"], "sources": {"fm_other": 'def probe():\n    return "v1"\n'}}))
        second.start()
        # While the slow transaction holds the lock, read-only requests are still answered.
        run("status", protocol.METHOD_STATUS, {})
        assert "result" in replies["status"], replies["status"]
        assert "second" not in replies, "the second reload ran while the first held the transaction"
    finally:
        release.touch()
        slow.join(40)
    second.join(40)
    expect_failure(replies["slow"], ("execute",))
    assert replies["second"]["result"]["modules"][0]["version"] == 1, replies["second"]
    after = snapshot(probe, ["fm_slow", "fm_other"])
    assert after["modules"]["fm_other"]["behaviour"] == repr("v1")
    del before["modules"]["fm_other"]
    assert_unchanged(before, after)
    # Put fm_other back so the shared host's version checks stay simple.
    with session(fault_host.address, fault_host.token) as wire:
        call(wire, protocol.METHOD_ROLLBACK, {"module": "fm_other"})
    assert_host_and_agent_alive(fault_host, probe, before, ["fm_slow", "fm_other"])


def test_the_snapshot_sees_a_successful_reload_and_its_rollback(fault_host: AgentHost, probe: Probe) -> None:
    """Control: the comparison above is sharp enough to see a real change, and an exact undo."""
    name = "fm_warmup"
    before = snapshot(probe, [name])
    source = BASE.format(name="warmup") + '\nSTATE = {"created": "v2"}\nNEW_NAME = 1\n'
    with session(fault_host.address, fault_host.token) as wire:
        result = call(wire, protocol.METHOD_RELOAD, {"modules": [name], "sources": {name: source}, "mode": "full"})
        changed = snapshot(probe, [name])
        with pytest.raises(AssertionError):
            assert_unchanged(before, changed)
        assert changed["modules"][name]["behaviour"] != before["modules"][name]["behaviour"]
        call(wire, protocol.METHOD_ROLLBACK, {"transaction": result["transaction"]})
    assert_unchanged(before, snapshot(probe, [name]))


def test_the_agent_never_reloads_its_own_code(tmp_path: Path) -> None:
    """Found by the long fuzz run: the agent's package changed on disk while it ran, a fuzzed
    ``stale: true`` reload re-ran the agent's own modules inside it, and it stopped answering.
    ``--stale`` after upgrading a dependency would do the same. The agent's code (and the
    libraries it runs on) must not be selectable, by name or as stale."""
    copy = tmp_path / "site"
    for package in ("reload_agent", "client/reload_agent_client"):
        shutil.copytree(ROOT / package, copy / Path(package).name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    app = tmp_path / "app"
    app.mkdir()
    (app / "fm_self.py").write_text('def probe():\n    return "v0"\n')
    with launch_host(tmp_path, "fault_host.py", [str(app), "fm_self"], env={"PYTHONPATH": str(copy)}) as host:
        with session(host.address, host.token) as wire:
            listed = call(wire, protocol.METHOD_LIST_MODULES, {"pattern": "reload_agent*"})["modules"]
            assert {m["file"].startswith(str(copy)) for m in listed if m["file"]} == {True}, "copy not in use"
            own = {m["name"] for m in listed if m["reloadable"]}
            assert not own, f"the agent's own modules are reloadable: {sorted(own)}"
            reply = wire.request(protocol.METHOD_RELOAD, {"modules": ["reload_agent.transport"]})
            assert reply.get("error", {}).get("data", {}).get("phase") == "resolve", reply
            # Now the agent's files change on disk, as with an upgrade or a git pull.
            for path in (copy / "reload_agent").rglob("*.py"):
                path.write_text(path.read_text() + "\n# changed on disk\n")
            result = call(wire, protocol.METHOD_RELOAD, {"stale": True})
            assert not [m for m in result["modules"] if m["name"].startswith("reload_agent")], result
            assert call(wire, protocol.METHOD_STATUS)["pid"] == host.pid
