"""Full reloads: the top level re-runs, identities are kept, incompatible changes are reported."""

from __future__ import annotations

import dataclasses
import pickle

import pytest


def test_method_edit_seen_by_existing_instances_isinstance_and_pickle(mods, engine):
    m = mods.load("m_inst", """
        VERSION = 1

        class Point:
            def __init__(self, x):
                self.x = x

            def show(self):
                return f"v{VERSION}:{self.x}"
    """)
    old_cls = m.Point
    p = m.Point(3)
    mods.write("m_inst", """
        VERSION = 2

        class Point:
            def __init__(self, x):
                self.x = x

            def show(self):
                return f"v{VERSION}:{self.x}!"

            def double(self):
                return Point(self.x * 2)
    """)
    res = engine.reload(["m_inst"])
    (mod,) = res.modules
    assert mod.mode == "full"
    assert "Point" in mod.classes
    assert m.Point is old_cls
    assert p.show() == "v2:3!"
    assert isinstance(p, m.Point)
    assert isinstance(p.double(), m.Point)
    assert pickle.loads(pickle.dumps(p)).show() == "v2:3!"


def test_alias_is_not_rewritten(mods, engine):
    m = mods.load("m_alias", """
        def foo():
            return "foo"

        def bar():
            return "bar"

        f = foo
    """)
    foo = m.foo
    mods.write("m_alias", """
        def foo():
            return "foo"

        def bar():
            return "bar"

        f = bar
    """)
    engine.reload(["m_alias"])
    assert m.f() == "bar"
    assert foo() == "foo" and m.foo is foo
    assert m.f is m.bar


def test_constant_changed_and_class_scope_default(mods, engine):
    m = mods.load("m_const", """
        K = 1

        class C:
            def m(self, v=K):
                return v

        def get():
            return K
    """)
    c = m.C()
    get = m.get
    mods.write("m_const", """
        K = 5

        class C:
            def m(self, v=K):
                return v

        def get():
            return K
    """)
    res = engine.reload(["m_const"])
    assert res.modules[0].mode == "full"
    assert get() == 5
    assert c.m() == 5


def test_function_added_and_removed_then_rollback(mods, engine):
    m = mods.load("m_addrm", """
        def keep():
            return 1

        def gone():
            return "gone"
    """)
    gone = m.gone
    mods.write("m_addrm", """
        def keep():
            return 1

        def added():
            return "added"
    """)
    res = engine.reload(["m_addrm"])
    assert res.modules[0].mode == "full"
    assert m.added() == "added"
    assert not hasattr(m, "gone")
    engine.rollback()
    assert m.gone is gone and not hasattr(m, "added")
    assert engine.list_modules("m_addrm")[0].version == 0


def test_dataclass_field_added_is_replaced(mods, engine):
    m = mods.load("m_dc", """
        import dataclasses

        @dataclasses.dataclass
        class D:
            a: int
    """)
    old = m.D(1)
    old_cls = m.D
    mods.write("m_dc", """
        import dataclasses

        @dataclasses.dataclass
        class D:
            a: int
            b: int = 0
    """)
    res = engine.reload(["m_dc"])
    (mod,) = res.modules
    assert [r.name for r in mod.replaced] == ["D"]
    assert "field" in mod.replaced[0].reason
    assert m.D is not old_cls and m.D(1, 2).b == 2
    assert repr(old) == "D(a=1)"  # old instance keeps working with its class


def test_frozen_dataclass_method_patched_and_frozenness_kept(mods, engine):
    src = """
        import dataclasses

        @dataclasses.dataclass(frozen=True)
        class F:
            a: int

            def twice(self):
                return self.a * 2
    """
    m = mods.load("m_frozen", src)
    f = m.F(2)
    cls = m.F
    mods.write("m_frozen", src.replace("self.a * 2", "self.a * 20"))
    res = engine.reload(["m_frozen"], mode="full")
    assert res.modules[0].replaced == []
    assert m.F is cls and f.twice() == 40
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.a = 3
    mods.write("m_frozen", src.replace("frozen=True", "frozen=False"))
    res = engine.reload(["m_frozen"])
    assert [r.name for r in res.modules[0].replaced] == ["F"]


def test_enum_members_kept_and_changed(mods, engine):
    m = mods.load("m_enum", """
        import enum

        class Color(enum.Enum):
            RED = 1
            GREEN = 2

            def label(self):
                return self.name.lower()
    """)
    red = m.Color.RED
    mods.write("m_enum", """
        import enum

        class Color(enum.Enum):
            RED = 1
            GREEN = 2

            def label(self):
                return "<" + self.name.lower() + ">"
    """)
    res = engine.reload(["m_enum"], mode="full")
    assert res.modules[0].replaced == []
    assert m.Color.RED is red and red.label() == "<red>"
    mods.write("m_enum", """
        import enum

        class Color(enum.Enum):
            RED = 1
            GREEN = 2
            BLUE = 3
    """)
    res = engine.reload(["m_enum"])
    assert [r.name for r in res.modules[0].replaced] == ["Color"]
    assert "enum members" in res.modules[0].replaced[0].reason
    assert m.Color.BLUE.value == 3


def test_slots_change_is_replaced(mods, engine):
    m = mods.load("m_slots", """
        class S:
            __slots__ = ("a",)
    """)
    mods.write("m_slots", """
        class S:
            __slots__ = ("a", "b")
    """)
    res = engine.reload(["m_slots"])
    assert [r.name for r in res.modules[0].replaced] == ["S"]
    assert "__slots__" in res.modules[0].replaced[0].reason
    s = m.S()
    s.b = 1


def test_exception_class_identity_kept(mods, engine):
    m = mods.load("m_exc", """
        class AppError(Exception):
            pass

        def fail():
            raise AppError("one")
    """)
    Old = m.AppError
    mods.write("m_exc", """
        class AppError(Exception):
            code = 7

        def fail():
            raise AppError("two")
    """)
    engine.reload(["m_exc"])
    with pytest.raises(Old) as info:
        m.fail()
    assert str(info.value) == "two" and Old.code == 7


def test_singledispatch_registrations_keep_working(mods, engine):
    src = """
        import functools

        class Thing:
            pass

        @functools.singledispatch
        def describe(x):
            return "object"

        @describe.register(Thing)
        def _(x):
            return "thing v1"
    """
    m = mods.load("m_sd", src)
    t = m.Thing()
    mods.write("m_sd", src.replace("thing v1", "thing v2"))
    engine.reload(["m_sd"], mode="full")
    assert m.describe(t) == "thing v2"
    assert m.describe(1) == "object"


def test_top_level_containers_see_the_kept_class(mods, engine):
    m = mods.load("m_cont", """
        class A:
            pass

        DEFAULT = A()
    """)
    A = m.A
    mods.write("m_cont", """
        class A:
            x = 1

        DEFAULT = A()
    """)
    engine.reload(["m_cont"])
    assert m.A is A and isinstance(m.DEFAULT, A)


def test_super_in_old_instances_after_full(mods, engine):
    m = mods.load("m_super2", """
        class Base:
            def f(self):
                return "b"

        class C(Base):
            def f(self):
                return "c" + super().f()
    """)
    c = m.C()
    mods.write("m_super2", """
        class Base:
            def f(self):
                return "B"

        class C(Base):
            def f(self):
                return "C" + super().f()

        X = 1
    """)
    res = engine.reload(["m_super2"])
    assert res.modules[0].mode == "full"
    assert c.f() == "CB"


def test_lru_cache_and_partial_found(mods, engine):
    src = """
        import functools

        @functools.lru_cache(maxsize=None)
        def cached(x):
            return x + 1

        def base(a, b):
            return a - b

        p = functools.partial(base, 10)
    """
    m = mods.load("m_wraps", src)
    mods.write("m_wraps", src.replace("a - b", "a + b"))
    res = engine.reload(["m_wraps"])
    assert res.modules[0].mode == "patch"
    assert m.p(1) == 11


REASSIGN = """
def deco(fn):
    def wrapper(*a):
        return ("w", fn(*a))
    return wrapper

def f():
    return {f}

f = deco(f)

def handler():
    return "{h}"

HANDLERS = {{"h": handler}}
CACHE = globals().get("CACHE", {{}})
{extra}
"""


def test_reassigned_decorator_and_registries_hold_kept_functions(mods, engine):
    m = mods.load("m_reassign", REASSIGN.format(f=1, h="h1", extra=""))
    f_old = m.f
    handler = m.handler
    m.CACHE["kept"] = True
    mods.write("m_reassign", REASSIGN.format(f=2, h="h2", extra="EXTRA = 1"))
    res = engine.reload(["m_reassign"])
    assert res.modules[0].mode == "full"
    assert m.f is f_old and f_old() == ("w", 2)
    assert m.HANDLERS["h"] is handler and handler() == "h2"
    assert m.CACHE == {"kept": True}
    # the registry holds the kept object, so a later body-only edit reaches it too
    mods.write("m_reassign", REASSIGN.format(f=2, h="h3", extra="EXTRA = 1"))
    assert engine.reload(["m_reassign"]).modules[0].mode == "patch"
    assert m.HANDLERS["h"]() == "h3"


def test_module_level_annotations_star_import_and_del(mods, engine):
    mods.write("m_star_src", "STAR_A = 1\nSTAR_B = 2\n__all__ = ['STAR_A', 'STAR_B']\n")
    src = """
        from __future__ import annotations
        from m_star_src import *

        LIMIT: int = 1
        temp = 5
        del temp

        if __name__ == "m_annot":
            WHERE = "imported"
    """
    m = mods.load("m_annot", src)
    mods.write("m_annot", src.replace("LIMIT: int = 1", "LIMIT: int = 2"))
    res = engine.reload(["m_annot"])
    assert res.modules[0].mode == "full"
    assert m.LIMIT == 2 and m.__annotations__ == {"LIMIT": "int"}
    assert m.STAR_A == 1 and m.WHERE == "imported" and not hasattr(m, "temp")


def test_history_records_and_limit(mods, engine):
    src = "def f():\n    return 1\n"
    mods.load("m_hist", src)
    for n in range(2, 5):
        mods.write("m_hist", src.replace("1", str(n)))
        engine.reload(["m_hist"])
    records = engine.history(limit=2)
    assert [r.id for r in records] == [3, 2]
    data = records[0].to_json()
    assert data["kind"] == "reload" and data["ok"] is True and data["modules"] == ["m_hist"]
    assert data["rolledBack"] is False and data["time"].endswith("+00:00") and data["durationMs"] >= 0


def test_namedtuple_abc_generic_and_own_metaclass_kept(mods, engine):
    src = """
        import abc
        import typing

        T = typing.TypeVar("T")

        class Meta(type):
            def tag(cls):
                return "meta1"

        class WithMeta(metaclass=Meta):
            pass

        class P(typing.NamedTuple):
            x: int
            y: int = 0

            def norm(self):
                return self.x + self.y

        class Base(abc.ABC):
            @abc.abstractmethod
            def run(self): ...

        class Impl(Base, typing.Generic[T]):
            def run(self):
                return "run1"
    """
    m = mods.load("m_kinds", src)
    p, impl, cls_p, cls_impl, meta = m.P(1, 2), m.Impl(), m.P, m.Impl, m.Meta
    mods.write("m_kinds", src.replace("meta1", "meta2").replace("self.x + self.y", "self.x * 10 + self.y")
               .replace("run1", "run2") + "\n        VERSION = 2\n")
    res = engine.reload(["m_kinds"])
    (mod,) = res.modules
    assert mod.mode == "full" and mod.replaced == []
    assert m.P is cls_p and m.Impl is cls_impl and m.Meta is meta
    assert p.norm() == 12 and impl.run() == "run2" and m.WithMeta.tag() == "meta2"
    assert isinstance(impl, m.Base) and m.P(3)._replace(y=1) == (3, 1)


def test_lru_cache_wrapper_kept_and_cleared_in_full_reload(mods, engine):
    src = """
        import functools

        K = 1

        @functools.lru_cache(maxsize=None)
        def cached(x):
            return x + 100
    """
    m = mods.load("m_lru", src)
    cached = m.cached
    assert cached(1) == 101
    mods.write("m_lru", src.replace("K = 1", "K = 2").replace("x + 100", "x + 200"))
    res = engine.reload(["m_lru"])
    assert res.modules[0].mode == "full"
    assert m.cached is cached and cached(1) == 201


def test_unchanged_definitions_are_left_alone_and_changed_ones_roll_back(mods, engine):
    source = """
        def same(x, label="a b", *, n=1):
            "Doc of same."
            return x

        def edited(scale=2.5):
            "Doc."
            return {value}

        class Plain:
            "A class whose text does not change."

            def method(self):
                return 1
    """
    m = mods.load("m_same", source.format(value=1))
    same, same_code, same_defaults = m.same, m.same.__code__, m.same.__defaults__
    plain_dict = dict(m.Plain.__dict__)
    edited, edited_code = m.edited, m.edited.__code__
    mods.write("m_same", source.format(value=2))
    (mod,) = engine.reload(["m_same"], mode="full").modules
    assert mod.functions == ["edited"]
    assert mod.classes == []  # an equal docstring compiled again is no change
    assert m.same is same and same.__code__ is same_code and same.__defaults__ is same_defaults
    assert dict(m.Plain.__dict__) == plain_dict and m.Plain.__dict__["__doc__"] is plain_dict["__doc__"]
    assert m.edited is edited and edited() == 2 and edited.__code__ is not edited_code
    engine.rollback()
    assert edited() == 1 and edited.__code__ is edited_code
    assert same.__code__ is same_code


def test_float_defaults_that_compare_equal_are_still_replaced(mods, engine):
    m = mods.load("m_zero", """
        def f(x=0.0):
            return x
    """)
    f = m.f
    mods.write("m_zero", """
        def f(x=-0.0):
            return x
    """)
    engine.reload(["m_zero"], mode="full")
    assert m.f is f and str(f()) == "-0.0"
