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


def test_new_cell_variable_still_patches(mods, engine):
    m = mods.load("m_cells", """
        K = 1

        def h():
            return 1
    """)
    mods.write("m_cells", """
        K = 1

        def h():
            k = K
            def inner():
                return k
            return inner()
    """)
    res = engine.reload(["m_cells"])
    assert res.modules[0].mode == "patch"  # h gains a cell of its own, not a free variable: swappable
    assert m.h() == 1


def test_closure_free_variable_change_falls_back_to_full(mods, engine):
    m = mods.load("m_closure", """
        def make(k):
            def f():
                return "fixed"
            return f

        g = make(7)
    """)
    mods.write("m_closure", """
        def make(k):
            def f():
                return k
            return f

        g = make(7)
    """)
    res = engine.reload(["m_closure"])
    (mod,) = res.modules
    assert mod.mode == "full" and "free variables" in mod.reason
    assert [r.name for r in mod.replaced] == ["make.<locals>.f"]
    assert m.g() == 7
    with pytest.raises(ReloadError) as info:
        mods.write("m_closure", "def make(k):\n    def f():\n        return 'fixed'\n    return f\n\ng = make(7)\n")
        engine.reload(["m_closure"], mode="patch")
    assert info.value.phase == "patch" and "free variables" in info.value.exception.message


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
    mods.write("m_super", "class Base:\n    X = 2\n")
    with pytest.raises(ReloadError) as info:
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


def test_nested_class_private_names_and_async(mods, engine):
    m = mods.load("m_mangle", """
        import asyncio

        class Outer:
            class Inner:
                def __init__(self):
                    self.__secret = 1

                def reveal(self):
                    return self.__secret

            async def work(self):
                return "a1"

        def gen():
            yield 1
    """)
    inner = m.Outer.Inner()
    mods.write("m_mangle", """
        import asyncio

        class Outer:
            class Inner:
                def __init__(self):
                    self.__secret = 1

                def reveal(self):
                    return self.__secret + 41

            async def work(self):
                return "a2"

        def gen():
            yield 2
    """)
    res = engine.reload(["m_mangle"])
    assert res.modules[0].mode == "patch"
    assert sorted(res.modules[0].functions) == ["Outer.Inner.reveal", "Outer.work", "gen"]
    assert inner.reveal() == 42
    import asyncio

    assert asyncio.run(m.Outer().work()) == "a2"
    assert list(m.gen()) == [2]


def test_running_generator_keeps_old_code(mods, engine):
    m = mods.load("m_gen", """
        def counter():
            yield "old-1"
            yield "old-2"
    """)
    running = m.counter()
    assert next(running) == "old-1"
    mods.write("m_gen", """
        def counter():
            yield "new-1"
            yield "new-2"
    """)
    engine.reload(["m_gen"])
    assert next(running) == "old-2"  # a running frame keeps its code (documented limit)
    assert list(m.counter()) == ["new-1", "new-2"]


def test_fast_path_refuses_header_edits(mods, engine):
    m = mods.load("m_header", """
        def f(a, b=1):
            return a + b

        def g():
            return 0
    """)
    mods.write("m_header", """
        def f(a, b=2):
            return a + b

        def g():
            return 0
    """)
    res = engine.reload(["m_header"])
    assert res.modules[0].mode == "full" and m.f(1) == 3


def test_future_annotations_module(mods, engine):
    m = mods.load("m_future", """
        from __future__ import annotations

        def f(x: Undefined) -> Undefined:
            return 1
    """)
    mods.write("m_future", """
        from __future__ import annotations

        def f(x: Undefined) -> Undefined:
            return 2
    """)
    res = engine.reload(["m_future"])
    assert res.modules[0].mode == "patch" and m.f(0) == 2


def test_importlib_reload_keeps_record_in_step(mods, engine):
    import importlib

    m = mods.load("m_imprel", "def f():\n    return 1\n")
    mods.write("m_imprel", "def f():\n    return 2\n")
    importlib.reload(m)  # the import hook records the text importlib ran
    mods.write("m_imprel", "def f():\n    return 3\n")
    res = engine.reload(["m_imprel"])
    assert res.modules[0].mode == "patch" and m.f() == 3


def test_body_edits_take_the_fast_path_other_edits_the_general_one(mods):
    from reload_agent.engine import sources
    from reload_agent.engine.plan import PatchPlan, plan_module

    src = "def a():\n    return 1\n\n\nclass K:\n    def b(self):\n        return 1\n"
    m = mods.load("m_paths", src)
    record = sources.loaded_source("m_paths", m)

    def plan(text):
        return plan_module(m, record, text, stat=None, data=None, mode="auto")

    one = plan(src.replace("return 1\n\n\n", "return 2\n\n\n"))
    assert isinstance(one, PatchPlan) and one.fast and one.functions == ["a"]
    method = plan(src.replace("        return 1", "        x = 1\n        return x"))
    assert isinstance(method, PatchPlan) and method.fast and method.functions == ["K.b"]
    both = plan(src.replace("return 1", "return 3"))
    assert isinstance(both, PatchPlan) and both.fast and sorted(both.functions) == ["K.b", "a"]
    # a comment between the definitions: not a body edit, the whole text is compiled and compared
    commented = plan(src.replace("\n\nclass K", "\n# note\nclass K").replace("return 1", "return 4"))
    assert isinstance(commented, PatchPlan) and not commented.fast and sorted(commented.functions) == ["K.b", "a"]


def test_function_hidden_by_a_decorator_gets_a_full_reload(mods, engine):
    src = """
        class Command:
            def __init__(self, callback):
                self.callback = callback  # no __wrapped__: the function is hidden

            def __call__(self):
                return self.callback()

        @Command
        def hello():
            return "hello 1"

        def other():
            return 1
    """
    m = mods.load("m_hidden", src)
    mods.write("m_hidden", src.replace("hello 1", "hello 2").replace("return 1", "return 2"))
    res = engine.reload(["m_hidden"])
    assert res.modules[0].mode == "full" and "hello" in res.modules[0].reason
    assert m.hello() == "hello 2" and m.other() == 2


def test_functions_outside_definitions_move_with_the_text(mods, engine):
    src = """
        def a():
            return 1

        if True:
            def b():
                raise ValueError("b")

        key = lambda: 1 / 0
    """
    m = mods.load("m_moves", src)
    res = engine.reload(sources={"m_moves": mods.path("m_moves").read_text().replace(
        "    return 1\n", "    x = 1\n    y = 2\n    return x + y\n")})
    assert res.modules[0].mode == "patch" and res.modules[0].functions == ["a"]
    assert m.a() == 3
    for fn, line in ((m.b, 9), (m.key, 11)):
        try:
            fn()
        except (ValueError, ZeroDivisionError) as exc:
            assert traceback.extract_tb(exc.__traceback__)[-1].lineno == line
        else:
            raise AssertionError("did not raise")
