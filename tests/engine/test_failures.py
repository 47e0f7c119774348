"""Failed reloads leave the process exactly as it was, and say where and why they failed."""

from __future__ import annotations

import linecache
import sys
import textwrap

import pytest

from reload_agent.engine import ReloadError


def _state(module):
    return {k: v for k, v in vars(module).items()}


def _assert_same_namespace(module, before):
    now = vars(module)
    assert set(now) == set(before)
    for key, value in before.items():
        assert now[key] is value, key


BASE = textwrap.dedent("""
    COUNT = 1

    def f():
        return "v1"

    class C:
        def m(self):
            return "m1"
""")


def test_syntax_error_reports_position_and_changes_nothing(mods, engine):
    m = mods.load("m_syn", BASE)
    before = _state(m)
    code = m.f.__code__
    path = mods.write("m_syn", "def f(:\n    return 2\n")
    with pytest.raises(ReloadError) as info:
        engine.reload(["m_syn"])
    err = info.value
    assert err.phase == "compile" and err.module == "m_syn"
    assert err.exception.type == "SyntaxError"
    assert err.exception.file == str(path) and err.exception.line == 1 and err.exception.column is not None
    _assert_same_namespace(m, before)
    assert m.f.__code__ is code
    assert engine.history()[0].ok is False
    assert engine.history()[0].error["phase"] == "compile"


def test_exception_mid_module_leaves_no_new_names(mods, engine):
    m = mods.load("m_mid", BASE)
    before = _state(m)
    c = m.C()
    mods.write("m_mid", """
        COUNT = 2

        def f():
            return "v2"

        class C:
            def m(self):
                return "m2"

        NEW_NAME = 1
        raise RuntimeError("boom")
    """)
    with pytest.raises(ReloadError) as info:
        engine.reload(["m_mid"])
    err = info.value
    assert err.phase == "execute"
    assert err.exception.type == "RuntimeError" and err.exception.message == "boom"
    assert err.exception.line == 12 and err.exception.file == m.__file__
    assert all("reload_agent/engine" not in fr.file for fr in err.exception.traceback)
    assert err.to_json()["rolledBack"] is True
    _assert_same_namespace(m, before)
    assert m.f() == "v1" and c.m() == "m1" and m.C().m() == "m1"
    assert "NEW_NAME" not in vars(m)
    # linecache shows the source the running code came from
    assert linecache.getline(m.__file__, 5).strip() == 'return "v1"'


def test_missing_import(mods, engine):
    m = mods.load("m_imp", BASE)
    before = _state(m)
    mods.write("m_imp", "import does_not_exist_anywhere_xyz\n" + BASE)
    with pytest.raises(ReloadError) as info:
        engine.reload(["m_imp"])
    assert info.value.phase == "execute" and info.value.exception.type == "ModuleNotFoundError"
    _assert_same_namespace(m, before)


@pytest.mark.parametrize("raised", ["SystemExit(3)", "KeyboardInterrupt()"])
def test_system_exit_and_keyboard_interrupt_caught(mods, engine, raised):
    m = mods.load("m_exit", BASE)
    before = _state(m)
    mods.write("m_exit", BASE + f"\nraise {raised}\n")
    with pytest.raises(ReloadError) as info:
        engine.reload(["m_exit"])
    assert info.value.exception.type == raised.split("(")[0]
    _assert_same_namespace(m, before)


def test_new_sys_modules_entries_removed_on_failure(mods, engine):
    mods.write("m_fresh_dep", "X = 1\n")
    m = mods.load("m_uses", BASE)
    mods.write("m_uses", "import m_fresh_dep\n" + BASE + "\nraise ValueError('late')\n")
    with pytest.raises(ReloadError):
        engine.reload(["m_uses"])
    assert "m_fresh_dep" not in sys.modules
    assert "m_fresh_dep" not in vars(m)


def test_raising_dispose_and_accept_hooks(mods, engine):
    m = mods.load("m_hook", """
        def __reload_dispose__(data):
            raise RuntimeError("dispose says no")

        def f():
            return 1
    """)
    before = _state(m)
    with pytest.raises(ReloadError) as info:
        engine.reload(["m_hook"], mode="full")
    assert info.value.phase == "hook" and "dispose says no" in info.value.exception.message
    _assert_same_namespace(m, before)
    mods.write("m_hook", """
        def __reload_accept__(data):
            raise RuntimeError("accept says no")

        def f():
            return 2
    """)
    with pytest.raises(ReloadError) as info:
        engine.reload(["m_hook"], mode="full")
    assert info.value.phase == "hook"
    _assert_same_namespace(m, before)
    assert m.f() == 1


def test_hooks_carry_data_across_full_reload(mods, engine):
    m = mods.load("m_carry", """
        STATE = {"n": 41}

        def __reload_dispose__(data):
            data["state"] = STATE

        def __reload_accept__(data):
            global STATE
            STATE = data["state"]
            STATE["n"] += 1
    """)
    state = m.STATE
    engine.reload(["m_carry"], mode="full")
    assert m.STATE is state and state["n"] == 42


def test_raising_verify_rolls_back(mods, engine):
    m = mods.load("m_ver", """
        def f():
            return 1

        def __reload_verify__():
            assert f() == 1
    """)
    code = m.f.__code__
    mods.write("m_ver", """
        def f():
            return 2

        def __reload_verify__():
            assert f() == 1, "f must stay 1"
    """)
    with pytest.raises(ReloadError) as info:
        engine.reload(["m_ver"])
    assert info.value.phase == "verify" and info.value.exception.type == "AssertionError"
    assert m.f.__code__ is code and m.f() == 1
    assert engine.list_modules("m_ver")[0].version == 0


def test_five_module_transaction_failing_in_third_restores_first_two(mods, engine):
    names = [f"m_five_{i}" for i in range(5)]
    loaded = [mods.load(n, BASE) for n in names]
    befores = [_state(m) for m in loaded]
    codes = [m.f.__code__ for m in loaded]
    for i, n in enumerate(names):
        text = BASE.replace('"v1"', f'"v2-{i}"')
        if i == 2:
            text += "\nraise LookupError('third')\n"
        elif i in (0, 1):
            text = text.replace("COUNT = 1", "COUNT = 2")  # full reload for 0 and 1
        mods.write(n, text)
    with pytest.raises(ReloadError) as info:
        engine.reload(names)
    assert info.value.module == "m_five_2" and info.value.phase == "execute"
    for m, before, code in zip(loaded, befores, codes):
        _assert_same_namespace(m, before)
        assert m.f.__code__ is code and m.f() == "v1"
    assert all(i.version == 0 for i in engine.list_modules("m_five_*"))


def test_unknown_module_file_and_unreloadable(mods, engine, tmp_path):
    with pytest.raises(ReloadError) as info:
        engine.reload(["no_such_module_abc"])
    assert info.value.phase == "resolve" and "no_such_module_abc" in info.value.exception.message
    with pytest.raises(ReloadError) as info:
        engine.reload(["sys"])
    assert info.value.phase == "resolve" and "built-in" in info.value.exception.message
    with pytest.raises(ReloadError) as info:
        engine.reload(files=[str(tmp_path / "nothing.py")])
    assert info.value.phase == "resolve"
    with pytest.raises(ReloadError) as info:
        engine.reload(["json"], mode="sideways")
    assert info.value.phase == "resolve"


@pytest.mark.parametrize("swallow", [False, True])
def test_pairing_failure_is_a_patch_phase_failure(mods, engine, swallow):
    src = textwrap.dedent("""
        class Meta(type):
            def __setattr__(cls, key, value):
                if key == "locked":
                    raise AttributeError("locked is read-only")
                super().__setattr__(key, value)

        try:
            class C(metaclass=Meta):
                locked = 1

                def m(self):
                    return 1
        except AttributeError:
            if not SWALLOW:
                raise
    """)
    m = mods.load("m_pairfail", f"SWALLOW = {swallow}\n" + src)
    before = _state(m)
    code = m.C.m.__code__
    mods.write("m_pairfail", f"SWALLOW = {swallow}\n" + src.replace("locked = 1", "locked = 2").replace("return 1", "return 2"))
    with pytest.raises(ReloadError) as info:
        engine.reload(["m_pairfail"])
    assert info.value.phase == "patch" and "read-only" in info.value.exception.message
    _assert_same_namespace(m, before)
    assert m.C.m.__code__ is code and m.C.locked == 1
