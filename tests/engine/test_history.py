"""History, rollback, overlap refusal, depth bound, notifications."""

from __future__ import annotations

import gc
import textwrap
import weakref

import pytest

from reload_agent.engine import Engine, RollbackError


def _v(n: int) -> str:
    return textwrap.dedent(f"""
        class Marker:
            pass

        MARK = Marker()

        def f():
            return {n}
    """)


def test_two_rollbacks_in_a_row(mods, engine):
    m = mods.load("m_rb", _v(0))
    mods.write("m_rb", _v(1))
    t1 = engine.reload(["m_rb"]).transaction
    mods.write("m_rb", _v(2).replace("f():", "f(x=0):"))
    t2 = engine.reload(["m_rb"]).transaction
    assert m.f() == 2 and engine.list_modules("m_rb")[0].version == 2
    r = engine.rollback()
    assert r.rolled_back == t2 and m.f() == 1
    assert r.modules == [("m_rb", 1)]
    r = engine.rollback()
    assert r.rolled_back == t1 and m.f() == 0
    assert engine.list_modules("m_rb")[0].version == 0
    with pytest.raises(RollbackError):
        engine.rollback()
    kinds = [(h.kind, h.ok, h.rolled_back) for h in engine.history()]
    assert kinds == [("rollback", True, False), ("rollback", True, False), ("reload", True, True), ("reload", True, True)]


def test_rollback_restores_namespace_identities(mods, engine):
    m = mods.load("m_rbns", _v(0))
    before = dict(vars(m))
    mods.write("m_rbns", _v(1) + "\nEXTRA = 1\n")
    engine.reload(["m_rbns"])
    assert m.EXTRA == 1
    engine.rollback("m_rbns")
    assert set(vars(m)) == set(before)
    assert all(vars(m)[k] is v for k, v in before.items())


def test_overlapping_rollback_refused_with_blocking_transaction(mods, engine):
    mods.load("m_ov_a", _v(0))
    mods.load("m_ov_b", _v(0))
    mods.write("m_ov_a", _v(1))
    mods.write("m_ov_b", _v(1))
    t1 = engine.reload(["m_ov_a", "m_ov_b"]).transaction
    mods.write("m_ov_b", _v(2))
    t2 = engine.reload(["m_ov_b"]).transaction
    with pytest.raises(RollbackError) as info:
        engine.rollback(transaction=t1)
    assert info.value.blocking_transaction == t2 and str(t2) in str(info.value)
    with pytest.raises(RollbackError):
        engine.rollback("m_ov_a")  # newest touching a is t1, blocked by t2 through b
    engine.rollback(transaction=t2)
    assert engine.rollback(transaction=t1).rolled_back == t1


def test_history_depth_bound_releases_old_transactions(mods):
    engine = Engine(history=3)
    m = mods.load("m_depth", _v(0))
    first_mark = weakref.ref(m.MARK)
    for n in range(1, 6):
        mods.write("m_depth", _v(n) + f"\nX{n} = {n}\n")
        engine.reload(["m_depth"])
    gc.collect()
    assert first_mark() is None  # the v0 namespace is no longer held by the history
    for expected in (4, 3, 2):
        engine.rollback("m_depth")
        assert m.f() == expected
    with pytest.raises(RollbackError) as info:
        engine.rollback("m_depth")
    assert "released" in str(info.value)


def test_rollback_keeps_names_the_program_changed_later(mods, engine):
    m = mods.load("m_later", "COUNT = 0\n\ndef f():\n    return 0\n")
    mods.write("m_later", "COUNT = 0\n\ndef f():\n    return 1\n\nNEW = 1\n")
    engine.reload(["m_later"])
    m.COUNT = 41  # the program moved on after the reload
    engine.rollback()
    assert m.COUNT == 41 and m.f() == 0 and not hasattr(m, "NEW")


def test_subscribe_sees_every_transaction(mods, engine):
    seen = []
    unsubscribe = engine.subscribe(lambda kind, params: seen.append((kind, params)))
    engine.subscribe(lambda kind, params: 1 / 0)  # a broken listener breaks nothing
    mods.load("m_sub", _v(0))
    mods.write("m_sub", _v(1))
    res = engine.reload(["m_sub"])
    mods.write("m_sub", "def broken(:\n")
    with pytest.raises(Exception):
        engine.reload(["m_sub"])
    engine.rollback()
    unsubscribe()
    mods.write("m_sub", _v(3))
    engine.reload(["m_sub"])
    assert [k for k, _ in seen] == ["didReload", "didReload", "didRollback"]
    assert seen[0][1] == {"transaction": res.transaction, "ok": True, "modules": [m.to_json() for m in res.modules],
                          "durationMs": round(res.duration_ms, 3)}
    assert seen[1][1]["ok"] is False and seen[1][1]["error"]["phase"] == "compile"
    assert seen[1][1]["error"]["exception"]["traceback"] == []  # no engine or ast.parse frames for a syntax error
    assert seen[1][1]["durationMs"] > 0
    assert seen[2][1]["rolledBack"] == res.transaction and seen[2][1]["durationMs"] >= 0
    assert seen[2][1]["modules"] == [{"name": "m_sub", "version": 0}]
    assert engine.status()["transactions"] == 4
