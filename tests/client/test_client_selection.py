"""Agent selection (CONTRACT section 3) over real connection files and real processes."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from reload_agent_client import discovery
from reload_agent_client.selection import SelectionError, select_agents


@pytest.fixture
def sleeper():
    """A live process other than ours, to own a second connection file."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait(timeout=10)


def write_agent(directory, pid, address, token="tok"):
    info = discovery.AgentInfo.for_this_process(address, token)
    data = {**info.to_json(), "pid": pid}
    return discovery.write_connection_file(discovery.AgentInfo.from_json(data), directory)


def dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(proc.stdout)


def choose(directory, connect=None, token=None, pid=None, all_=False, environ=None):
    return select_agents(connect, token, pid, all_, directory=directory, environ=environ or {})


def test_no_agents_is_an_error_that_says_where_it_looked(tmp_path):
    with pytest.raises(SelectionError, match="no running agent found in") as info:
        choose(tmp_path)
    assert str(tmp_path) in str(info.value)


def test_one_live_agent_is_chosen_and_a_stale_file_is_cleaned(tmp_path):
    write_agent(tmp_path, os.getpid(), "127.0.0.1:1111", "t1")
    stale = write_agent(tmp_path, dead_pid(), "127.0.0.1:2222")
    [target] = choose(tmp_path)
    assert (target.address, target.token, target.pid) == ("127.0.0.1:1111", "t1", os.getpid())
    assert not stale.exists()


def test_two_agents_need_pid_or_all(tmp_path, sleeper):
    write_agent(tmp_path, os.getpid(), "127.0.0.1:1111")
    write_agent(tmp_path, sleeper.pid, "unix:/tmp/x.sock", None)
    with pytest.raises(SelectionError, match="2 agents are running") as info:
        choose(tmp_path)
    assert {a.pid for a in info.value.agents} == {os.getpid(), sleeper.pid}
    assert f"pid {sleeper.pid}" in str(info.value)
    [by_pid] = choose(tmp_path, pid=sleeper.pid)
    assert by_pid.address == "unix:/tmp/x.sock" and by_pid.token is None
    assert {t.pid for t in choose(tmp_path, all_=True)} == {os.getpid(), sleeper.pid}
    with pytest.raises(SelectionError, match="no running agent with pid 1 "):
        choose(tmp_path, pid=1)


def test_connect_wins_and_borrows_the_token_of_a_known_agent(tmp_path):
    write_agent(tmp_path, os.getpid(), "127.0.0.1:1111", "from-file")
    [target] = choose(tmp_path, connect="127.0.0.1:1111")
    assert target.token == "from-file" and target.pid == os.getpid()
    [target] = choose(tmp_path, connect="127.0.0.1:1111", token="explicit")
    assert target.token == "explicit"
    [target] = choose(tmp_path, connect="127.0.0.1:9", environ={"RELOAD_AGENT_TOKEN": "env"})
    assert (target.address, target.token, target.pid) == ("127.0.0.1:9", "env", None)


def test_environment_address_comes_before_connection_files(tmp_path):
    write_agent(tmp_path, os.getpid(), "127.0.0.1:1111")
    env = {"RELOAD_AGENT_ADDRESS": "unix:/run/a.sock", "RELOAD_AGENT_TOKEN": "e"}
    [target] = choose(tmp_path, environ=env)
    assert (target.address, target.token) == ("unix:/run/a.sock", "e")
    [target] = choose(tmp_path, connect="127.0.0.1:5", environ=env)
    assert target.address == "127.0.0.1:5"
