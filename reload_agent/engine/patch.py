"""Applying a reload to live objects: code swaps, and identity-keeping full reloads.

Every change goes through the transaction's :class:`UndoLog`, so a failure (or a
later rollback) reverses it exactly.

Full reload: the new top level runs in the module's own dict. Each name it binds
goes through :meth:`Adopter.bind`, which pairs the new object with the old one of
the same ``__module__`` + ``__qualname__`` and, when compatible, patches the OLD
object to behave like the new one and binds it instead. Old references, instances,
``isinstance`` checks and pickles keep working.
"""

from __future__ import annotations

import dataclasses
import enum
from types import CodeType, FunctionType, GetSetDescriptorType, MemberDescriptorType, ModuleType
from typing import Any, Iterator, MutableMapping

from .codeutil import defined_in, own_dict, same_except_lines
from .plan import PatchPlan
from .results import Replaced
from .undo import MISSING, UndoLog

__all__ = ["apply_patch", "Adopter"]


def apply_patch(plan: PatchPlan, undo: UndoLog) -> None:
    """Swap in the planned code objects (and docstrings)."""
    undo.set_codes([(fn, code) for fn, code, _ in plan.swaps])
    for fn, _, doc in plan.swaps:
        if doc is not ...:
            undo.set_attr(fn, "__doc__", doc)


#: Exact types whose equal values are interchangeable, and whose ``==`` runs no user code.
#: (Not float: ``0.0 == -0.0``.)
_PLAIN = frozenset({str, int, bytes, bool, type(None)})


def _same_value(old: Any, new: Any) -> bool:
    """``old`` can stay in place of ``new``: the same object, or equal values of a plain type.

    Other values are never compared with ``==``: it can run arbitrary code (numpy arrays raise).

    >>> _same_value("a b", " ".join(["a", "b"])), _same_value(0.0, -0.0), _same_value(1, True)
    (True, False, False)
    """
    return old is new or (type(old) is type(new) and type(new) in _PLAIN and old == new)


def _same_items(old: tuple[Any, ...] | dict[str, Any] | None, new: tuple[Any, ...] | dict[str, Any] | None) -> bool:
    """Two tuples (or dicts, keys in the same order) whose items pass :func:`_same_value`, or both None.

    >>> _same_items((1, "x"), (1, "x")), _same_items({"a": 1}, {"a": 2}), _same_items(None, ())
    (True, False, False)
    """
    if old is new:
        return True
    if type(old) is not type(new) or len(old) != len(new):  # type: ignore[arg-type]
        return False
    if isinstance(old, dict):
        return all(_same_value(a, b) and _same_value(old[a], new[b]) for a, b in zip(old, new))  # type: ignore[index]
    return all(_same_value(a, b) for a, b in zip(old, new))  # type: ignore[arg-type]


def _same_code(old: CodeType, new: CodeType) -> bool:
    """Identical code (lines included): the old object can stay, with what the interpreter learned about it.

    Code equality leaves out the file and qualified name, so they are compared here.
    """
    return (
        old.co_firstlineno == new.co_firstlineno
        and old == new
        and old.co_filename == new.co_filename
        and old.co_qualname == new.co_qualname
    )


#: Class dict entries never copied from the new class to the old one.
_SKIP = frozenset({"__dict__", "__weakref__", "__module__", "__qualname__", "_abc_impl"})


class Adopter:
    """Pairs new objects with old ones while a full reload's top level runs, patching the old ones in place.

    The top level runs with :meth:`namespace` as its locals: every name it binds (``def``,
    ``class``, ``import``, assignments) passes through :meth:`bind`, which stores the kept
    object, so the rest of the top level (registries, default instances, ``singledispatch``
    registrations) already sees it.
    """

    def __init__(self, module: ModuleType, snapshot: dict[str, Any], undo: UndoLog) -> None:
        self.name = module.__name__
        self.ns = module.__dict__
        self.snapshot = snapshot
        self.undo = undo
        self.functions: list[str] = []
        self.classes: list[str] = []
        self.replaced: list[Replaced] = []
        #: names the new top level bound
        self.bound: set[str] = set()
        #: first exception raised by the pairing itself (phase "patch", not "execute")
        self.error: BaseException | None = None
        self._memo: dict[int, Any] = {}
        self._keep: list[Any] = []  # keeps new objects alive so the ids in _memo stay theirs

    def namespace(self) -> MutableMapping[str, Any]:
        """The locals mapping for ``exec``: reads and deletes go to the module dict, writes through :meth:`bind`."""
        return _BindingNamespace(self)

    def bind(self, name: str, value: Any) -> None:
        self.bound.add(name)
        try:
            old = self.snapshot.get(name, MISSING)
            kept = self.pair(old, value) if old is not MISSING else self.canonical(value)
        except BaseException as exc:
            if self.error is None:
                self.error = exc
            raise
        self.ns[name] = kept

    def finish(self) -> None:
        """After the top level ran: drop the definitions the new version no longer has."""
        for name, old in self.snapshot.items():
            if (
                name not in self.bound
                and self.ns.get(name, MISSING) is old
                and isinstance(old, (FunctionType, type))
                and defined_in(old, self.name)
                and getattr(old, "__qualname__", None) == name
            ):
                del self.ns[name]

    # -- pairing ------------------------------------------------------------------------------
    def _same(self, old: Any, new: Any) -> bool:
        """Same definition: same module and qualname (and, for functions, the same code qualname:
        ``functools.wraps`` copies ``__qualname__`` onto a wrapper, which must not pair with the function)."""
        if not (
            defined_in(old, self.name)
            and defined_in(new, self.name)
            and getattr(old, "__qualname__", None) == getattr(new, "__qualname__", MISSING)
        ):
            return False
        if isinstance(old, FunctionType):
            return old.__code__.co_qualname == new.__code__.co_qualname
        return True

    def canonical(self, new: Any) -> Any:
        """What to use in place of ``new``: the old object it was paired with, else ``new`` itself."""
        found = self._memo.get(id(new), MISSING)
        if found is not MISSING:
            return found
        if isinstance(new, FunctionType) and defined_in(new, self.name):
            self._fix_cells(new)
        return new

    def pair(self, old: Any, new: Any) -> Any:
        """Patch ``old`` to act like ``new`` when they are the same definition; return what to bind."""
        if _same_value(old, new):
            return old
        found = self._memo.get(id(new), MISSING)
        if found is not MISSING:
            return found
        if isinstance(old, FunctionType) and isinstance(new, FunctionType) and self._same(old, new):
            return self._patch_function(old, new)
        if isinstance(old, type) and isinstance(new, type) and self._same(old, new):
            return self._patch_class(old, new)
        if type(old) is type(new) and isinstance(new, (staticmethod, classmethod)):
            inner = self.pair(old.__func__, new.__func__)
            return old if inner is old.__func__ else type(new)(inner)
        if isinstance(old, property) and type(new) is property:
            parts = []
            for attr in ("fget", "fset", "fdel"):
                o, n = getattr(old, attr), getattr(new, attr)
                parts.append(None if n is None else self.pair(o, n) if o is not None else self.canonical(n))
            if all(p is getattr(old, a) for p, a in zip(parts, ("fget", "fset", "fdel"))) and old.__doc__ == new.__doc__:
                return old
            return property(*parts, doc=new.__doc__)
        wrapped_old, wrapped_new = own_dict(old).get("__wrapped__"), own_dict(new).get("__wrapped__")
        if type(old) is type(new) and wrapped_old is not None and wrapped_new is not None:
            # a C-level wrapper (lru_cache): patch the function inside, keep the wrapper others hold
            if self.pair(wrapped_old, wrapped_new) is wrapped_old:
                clear = getattr(old, "cache_clear", None)
                if callable(clear):
                    clear()  # results of the old code must not outlive it
                self._remember(new, old)
                return old
        return self.canonical(new)

    def _remember(self, new: Any, value: Any) -> None:
        self._memo[id(new)] = value
        self._keep.append(new)

    def _fix_cells(self, fn: FunctionType) -> None:
        """A new function kept as is: point its closure at the kept objects (e.g. ``__class__`` -> old class)."""
        for cell in fn.__closure__ or ():
            try:
                value = cell.cell_contents
            except ValueError:
                continue
            kept = self._memo.get(id(value), value)
            if kept is not value:
                cell.cell_contents = kept  # a cell of the new code: nothing else holds it, no undo needed

    def _patch_function(self, old: FunctionType, new: FunctionType) -> Any:
        qualname = new.__qualname__
        if old.__code__.co_freevars != new.__code__.co_freevars:
            self.replaced.append(
                Replaced(qualname, "free variables changed (e.g. super() or a closure variable added), "
                         "so the old function object cannot take the new code; the new function replaces it")
            )
            self._remember(new, new)
            self._fix_cells(new)
            return new
        self._remember(new, old)
        undo = self.undo
        new_dict = {}
        for key, value in new.__dict__.items():
            old_value = old.__dict__.get(key, MISSING)
            new_dict[key] = self.pair(old_value, value) if old_value is not MISSING else self.canonical(value)
        for oc, nc in zip(old.__closure__ or (), new.__closure__ or ()):
            try:
                value = nc.cell_contents
            except ValueError:
                continue
            try:
                current = oc.cell_contents
            except ValueError:
                current = MISSING
            kept = self.pair(current, value) if current is not MISSING else self.canonical(value)
            if kept is not current:
                undo.set_cell(oc, kept)
        changes: list[tuple[str, Any]] = []
        old_code, new_code = old.__code__, new.__code__
        if old_code is not new_code and not _same_code(old_code, new_code):
            if not same_except_lines(old_code, new_code) and qualname not in self.functions:
                self.functions.append(qualname)
            changes.append(("__code__", new_code))
        # `(a or b) and`: None and empty behave the same here, and most functions have neither side
        defaults, old_defaults = new.__defaults__, old.__defaults__
        if defaults:
            defaults = tuple(self.canonical(v) for v in defaults)
        if (defaults or old_defaults) and not _same_items(old_defaults, defaults):
            changes.append(("__defaults__", defaults))
        kwdefaults, old_kwdefaults = new.__kwdefaults__, old.__kwdefaults__
        if kwdefaults:
            kwdefaults = {k: self.canonical(v) for k, v in kwdefaults.items()}
        if (kwdefaults or old_kwdefaults) and not _same_items(old_kwdefaults, kwdefaults):
            changes.append(("__kwdefaults__", kwdefaults))
        if not _same_value(old.__doc__, new.__doc__):
            changes.append(("__doc__", new.__doc__))
        annotations, old_annotations = new.__annotations__, old.__annotations__
        if (annotations or old_annotations) and not _same_items(old_annotations, annotations):
            changes.append(("__annotations__", annotations))
        old_dict = old.__dict__
        if (new_dict or old_dict) and not _same_items(old_dict, new_dict):
            changes.append(("__dict__", new_dict))
        if changes:
            # one undo step per function: a full reload patches every function of the module
            undo.set_attrs(old, changes)
        return old

    def _incompatible(self, old: type, new: type) -> str | None:
        if self.canonical(type(new)) is not type(old):
            return "metaclass changed"
        bases = tuple(self.canonical(b) for b in new.__bases__)
        if len(bases) != len(old.__bases__) or any(a is not b for a, b in zip(bases, old.__bases__)):
            return "base classes changed (or a base class was itself replaced)"
        if old.__dict__.get("__slots__", MISSING) != new.__dict__.get("__slots__", MISSING):
            return "__slots__ changed: instance layout differs"
        if old.__basicsize__ != new.__basicsize__ or old.__itemsize__ != new.__itemsize__:
            return "instance layout changed"
        if isinstance(old, enum.EnumMeta):
            try:
                same = [(k, v._value_) for k, v in old.__members__.items()] == [
                    (k, v._value_) for k, v in new.__members__.items()  # type: ignore[attr-defined]
                ]
            except Exception:  # noqa: BLE001 - values whose == raises
                same = False
            if not same:
                return "enum members changed"
        if dataclasses.is_dataclass(old) or dataclasses.is_dataclass(new):
            if list(old.__dict__.get("__dataclass_fields__", {})) != list(new.__dict__.get("__dataclass_fields__", {})):
                return "dataclass fields changed: existing instances lack the new layout"
            if repr(old.__dict__.get("__dataclass_params__")) != repr(new.__dict__.get("__dataclass_params__")):
                return "dataclass parameters changed (frozen, eq, order...)"
        if old.__dict__.get("_fields", MISSING) != new.__dict__.get("_fields", MISSING):
            return "fields changed"
        return None

    def _patch_class(self, old: type, new: type) -> Any:
        reason = self._incompatible(old, new)
        if reason is not None:
            self.replaced.append(Replaced(new.__qualname__, reason + "; existing instances keep the old class"))
            self._remember(new, new)
            return new
        self._remember(new, old)
        is_enum = isinstance(old, enum.EnumMeta)
        new_dict = new.__dict__
        before = len(self.undo)
        for key, value in new_dict.items():
            if key in _SKIP or isinstance(value, (MemberDescriptorType, GetSetDescriptorType)):
                continue
            if is_enum and not isinstance(value, (FunctionType, staticmethod, classmethod, property)):
                continue  # members and enum bookkeeping stay the old ones: identity of members
            current = old.__dict__.get(key, MISSING)
            kept = self.pair(current, value) if current is not MISSING else self.canonical(value)
            if kept is not current:
                self.undo.set_class_attr(old, key, kept)
        for key in [k for k in old.__dict__ if k not in new_dict and k not in _SKIP]:
            value = old.__dict__[key]
            if isinstance(value, (MemberDescriptorType, GetSetDescriptorType)):
                continue
            if is_enum and not isinstance(value, (FunctionType, staticmethod, classmethod, property)):
                continue
            self.undo.set_class_attr(old, key, MISSING)
        if len(self.undo) != before and new.__qualname__ not in self.classes:
            self.classes.append(new.__qualname__)
        return old


class _BindingNamespace(MutableMapping[str, Any]):
    """Module-level code's locals during a full reload (``exec(code, module.__dict__, this)``).

    Functions still get the module dict itself as ``__globals__``; only the top level's own
    name bindings (``STORE_NAME``) come through here.
    """

    __slots__ = ("_adopter", "_ns")

    def __init__(self, adopter: Adopter) -> None:
        self._adopter = adopter
        self._ns = adopter.ns

    def __getitem__(self, key: str) -> Any:
        return self._ns[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._adopter.bind(key, value)

    def __delitem__(self, key: str) -> None:
        del self._ns[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._ns)

    def __len__(self) -> int:
        return len(self._ns)
