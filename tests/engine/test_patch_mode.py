"""Body-only edits: patch mode swaps code in place without re-running the top level."""

from __future__ import annotations

import linecache
import traceback

import pytest

from reload_agent.engine import ReloadError


def test_body_edit_seen_through_from_import_and_stored_bound_method(mods, engine):
    m = mods.load("m_patch1", """
        def f():
            return 1

        class C:
            def g(self):
                return "old"
    """)
    f = m.f
    c = m.C()
    bound = c.g
    mods.write("m_patch1", """
        def f():
            return 2

        class C:
            def g(self):
                return "new"
    """)
    result = engine.reload(["m_patch1"])
    (mod,) = result.modules
    assert mod.mode == "patch"
    assert sorted(mod.functions) == ["C.g", "f"]
    assert f() == 2 and f is m.f
    assert bound() == "new"
    assert c.g() == "new" and m.C().g() == "new"
    assert mod.version == 1


def test_side_effect_decorator_not_rerun_by_body_edit_but_rerun_by_full(mods, engine):
    mods.load("registry_x", "CALLS = []\n")
    m = mods.load("m_deco", """
        import registry_x

        def register(fn):
            registry_x.CALLS.append(fn.__name__)
            return fn

        @register
        def handler():
            return "v1"
    """)
    import registry_x

    assert registry_x.CALLS == ["handler"]
    mods.write("m_deco", """
        import registry_x

        def register(fn):
            registry_x.CALLS.append(fn.__name__)
            return fn

        @register
        def handler():
            return "v2"
    """)
    res = engine.reload(["m_deco"])
    assert res.modules[0].mode == "patch"
    assert m.handler() == "v2"
    assert registry_x.CALLS == ["handler"]
    res = engine.reload(["m_deco"], mode="full")
    assert res.modules[0].mode == "full"
    assert registry_x.CALLS == ["handler", "handler"]


def test_module_state_untouched_by_patch(mods, engine):
    m = mods.load("m_state", """
        CACHE = {}

        def put(k, v):
            CACHE[k] = v

        def get(k):
            return CACHE.get(k)
    """)
    m.put("a", 1)
    cache = m.CACHE
    mods.write("m_state", """
        CACHE = {}

        def put(k, v):
            CACHE[k] = v

        def get(k):
            return ("got", CACHE.get(k))
    """)
    assert engine.reload(["m_state"]).modules[0].mode == "patch"
    assert m.CACHE is cache and m.get("a") == ("got", 1)


def test_property_classmethod_staticmethod(mods, engine):
    m = mods.load("m_desc", """
        class C:
            @property
            def p(self):
                return 1

            @p.setter
            def p(self, v):
                self._v = v

            @classmethod
            def cm(cls):
                return "cm1"

            @staticmethod
            def sm():
                return "sm1"
    """)
    c = m.C()
    mods.write("m_desc", """
        class C:
            @property
            def p(self):
                return 2

            @p.setter
            def p(self, v):
                self._v = v * 10

            @classmethod
            def cm(cls):
                return "cm2"

            @staticmethod
            def sm():
                return "sm2"
    """)
    res = engine.reload(["m_desc"])
    assert res.modules[0].mode == "patch"
    assert c.p == 2 and m.C.cm() == "cm2" and m.C.sm() == "sm2"
    c.p = 3
    assert c._v == 30


def test_nested_function_and_wrapped_decorator(mods, engine):
    m = mods.load("m_nested", """
        import functools

        def deco(fn):
            @functools.wraps(fn)
            def wrapper(*a):
                return ("wrapped", fn(*a))
            return wrapper

        @deco
        def f():
            return 1

        def outer():
            def inner():
                return "in1"
            return inner()
    """)
    mods.write("m_nested", """
        import functools

        def deco(fn):
            @functools.wraps(fn)
            def wrapper(*a):
                return ("wrapped2", fn(*a))
            return wrapper

        @deco
        def f():
            return 2

        def outer():
            def inner():
                return "in2"
            return inner()
    """)
    res = engine.reload(["m_nested"])
    assert res.modules[0].mode == "patch"
    assert m.f() == ("wrapped2", 2)
    assert m.outer() == "in2"


def test_line_shift_updates_tracebacks(mods, engine):
    m = mods.load("m_lines", """
        def a():
            return 1

        def boom():
            raise ValueError("x")
    """)
    mods.write("m_lines", """
        def a():
            x = 1
            y = 2
            return x + y

        def boom():
            raise ValueError("x")
    """)
    res = engine.reload(["m_lines"])
    assert res.modules[0].mode == "patch"
    assert m.a() == 3
    with pytest.raises(ValueError) as info:
        m.boom()
    frame = traceback.extract_tb(info.value.__traceback__)[-1]
    assert frame.lineno == 8
    assert frame.line == 'raise ValueError("x")'
    assert linecache.getline(m.__file__, 8).strip() == 'raise ValueError("x")'


def test_closure_change_falls_back_to_full(mods, engine):
    m = mods.load("m_closure", """
        K = 1

        def make():
            def f():
                return 1
            return f

        g = make()

        def h():
            return 1
    """)
    mods.write("m_closure", """
        K = 1

        def make():
            def f():
                return 1
            return f

        g = make()

        def h():
            k = K
            def inner():
                return k
            return inner()
    """)
    res = engine.reload(["m_closure"])
    assert res.modules[0].mode == "patch"  # h gained a cellvar, not a freevar: still swappable
    assert m.h() == 1


def test_super_added_falls_back_to_full_and_old_instances_work(mods, engine):
    m = mods.load("m_super", """
        class Base:
            def hello(self):
                return "base"

        class C(Base):
            def hello(self):
                return "c"
    """)
    old = m.C()
    mods.write("m_super", """
        class Base:
            def hello(self):
                return "base"

        class C(Base):
            def hello(self):
                return "c+" + super().hello()
    """)
    res = engine.reload(["m_super"])
    (mod,) = res.modules
    assert mod.mode == "full"
    assert "free variables" in (mod.reason or "")
    assert old.hello() == "c+base"
    assert isinstance(old, m.C)
    with pytest.raises(ReloadError) as info:
        engine.reload(["m_super"], mode="patch")  # nothing changed now: fine
        mods.write("m_super", "class Base:\n    X = 2\n")
        engine.reload(["m_super"], mode="patch")
    assert info.value.phase == "patch"


def test_docstring_edit(mods, engine):
    m = mods.load("m_doc", '''
        def f():
            """old doc"""
            return 1
    ''')
    mods.write("m_doc", '''
        def f():
            """new doc"""
            return 1
    ''')
    assert engine.reload(["m_doc"]).modules[0].mode == "patch"
    assert m.f.__doc__ == "new doc"


def test_unchanged_reload_is_a_noop_patch(mods, engine):
    m = mods.load("m_same", "def f():\n    return 1\n")
    f = m.f
    res = engine.reload(["m_same"])
    assert res.modules[0].mode == "patch" and res.modules[0].functions == []
    assert m.f is f
