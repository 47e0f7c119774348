"""Random sequences of edits, failing edits and rollbacks against a simple model of what must run."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reload_agent.engine import Engine, ReloadError, RollbackError

NAMES = ("alpha", "beta", "gamma")

# A version: which functions exist and what they return, a constant, and a method's result.
versions = st.fixed_dictionaries(
    {
        "funcs": st.dictionaries(st.sampled_from(NAMES), st.integers(0, 3), min_size=1),
        "const": st.integers(0, 2),
        "method": st.integers(0, 2),
        "pad": st.integers(0, 2),  # blank lines that move everything below
    }
)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("edit"), versions),
        st.tuples(st.just("broken"), st.sampled_from(["syntax", "raise", "exit"])),
        st.tuples(st.just("rollback"), st.none()),
    ),
    min_size=1,
    max_size=12,
)


def render(v: dict) -> str:
    out = [f"CONST = {v['const']}\n", "\n" * v["pad"]]
    for name, value in sorted(v["funcs"].items()):
        out.append(f"def {name}():\n    return {value} + CONST * 0\n\n")
    out.append(f"class Box:\n    def get(self):\n        return {v['method']}\n")
    return "".join(out)


BROKEN = {
    "syntax": "def oops(:\n",
    "raise": "CONST = 99\ndef alpha():\n    return 99\nraise RuntimeError('no')\n",
    "exit": "CONST = 98\nraise SystemExit(1)\n",
}


def check(module, box, v: dict) -> None:
    for name in NAMES:
        if name in v["funcs"]:
            assert getattr(module, name)() == v["funcs"][name]
        else:
            assert not hasattr(module, name), name
    assert module.CONST == v["const"]
    assert box.get() == v["method"] and module.Box().get() == v["method"]
    assert isinstance(box, module.Box)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=versions, plan=steps)
def test_random_edit_sequences_match_the_model(mods, first, plan):
    engine = Engine(history=5)
    name = "m_model"
    mods.write(name, render(first))
    import importlib
    import sys

    sys.modules.pop(name, None)
    module = importlib.import_module(name)
    box = module.Box()
    stack = [first]  # versions, oldest first
    undoable = [False]  # per version: can a rollback still undo the reload that made it?
    try:
        for kind, arg in plan:
            if kind == "edit":
                mods.write(name, render(arg))
                engine.reload([name])
                stack.append(arg)
                undoable.append(True)
                if sum(undoable) > 5:  # history depth: the oldest undoable reload is released
                    undoable[undoable.index(True)] = False
            elif kind == "broken":
                mods.write(name, BROKEN[arg])
                try:
                    engine.reload([name])
                except ReloadError as err:
                    assert err.rolled_back
                else:
                    raise AssertionError("a broken version reloaded")
            else:
                if undoable[-1]:
                    engine.rollback(name)
                    stack.pop()
                    undoable.pop()
                else:
                    try:
                        engine.rollback(name)
                    except RollbackError:
                        pass
                    else:
                        raise AssertionError("rolled back a released or absent transaction")
            check(module, box, stack[-1])
            assert engine.list_modules(name)[0].version == len(stack) - 1
    finally:
        sys.modules.pop(name, None)


@settings(max_examples=300, deadline=None)
@given(
    old=st.lists(st.sampled_from("abcd"), max_size=80),
    edits=st.lists(st.tuples(st.sampled_from(["set", "insert", "delete"]), st.integers(0, 100)), max_size=4),
)
def test_changed_region_matches_a_line_by_line_scan(old, edits):
    from reload_agent.engine.plan import _changed_region

    new = list(old)
    for op, at in edits:
        if op == "insert":
            new.insert(at % (len(new) + 1), "x")
        elif new:
            if op == "set":
                new[at % len(new)] = "y"
            else:
                del new[at % len(new)]
    n = min(len(old), len(new))
    lo = 0
    while lo < n and old[lo] == new[lo]:
        lo += 1
    tail = 0
    while tail < n - lo and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    assert _changed_region(old, new) == (lo, len(old) - tail, len(new) - tail)
