"""Applying a reload to live objects: code swaps, and identity-keeping full reloads.

Every change goes through the transaction's :class:`UndoLog`, so a failure (or a
later rollback) reverses it exactly.

Full reload: the new top level runs in the module's own dict. After each def/class
statement (and once more at the end for every other name) :meth:`Adopter.adopt`
pairs the new object with the old one of the same ``__module__`` + ``__qualname__``
and, when compatible, patches the OLD object to behave like the new one and binds it
back. Old references, instances, ``isinstance`` checks and pickles keep working.
"""

from __future__ import annotations

import dataclasses
import enum
from types import FunctionType, GetSetDescriptorType, MemberDescriptorType, ModuleType
from typing import Any

from .codeutil import defined_in, same_except_lines
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


#: Class dict entries never copied from the new class to the old one.
_SKIP = frozenset({"__dict__", "__weakref__", "__module__", "__qualname__", "_abc_impl"})


class Adopter:
    """Pairs new objects with old ones during and after a full reload, patching the old ones in place."""

    def __init__(self, module: ModuleType, snapshot: dict[str, Any], undo: UndoLog) -> None:
        self.name = module.__name__
        self.ns = module.__dict__
        self.snapshot = snapshot
        self.undo = undo
        self.functions: list[str] = []
        self.classes: list[str] = []
        self.replaced: list[Replaced] = []
        #: names the new top level defined with def/class
        self.adopted: set[str] = set()
        self._memo: dict[int, Any] = {}
        self._keep: list[Any] = []  # keeps new objects alive so the ids in _memo stay theirs

    # -- called by the module's top level and by the engine ---------------------------------
    def adopt(self, name: str) -> None:
        """``name`` was just bound by a def/class statement: bind the old object back if compatible."""
        self.adopted.add(name)
        self._rebind(name)

    def finish(self) -> None:
        """After the top level ran: pair the remaining names, drop removed definitions."""
        for name in list(self.ns):
            if name not in self.adopted:
                self._rebind(name)
        for name, old in self.snapshot.items():
            if (
                name not in self.adopted
                and self.ns.get(name, MISSING) is old
                and isinstance(old, (FunctionType, type))
                and defined_in(old, self.name)
                and getattr(old, "__qualname__", None) == name
            ):
                # a def/class of the old version that the new version no longer has
                del self.ns[name]

    # -- pairing ------------------------------------------------------------------------------
    def _rebind(self, name: str) -> None:
        new = self.ns.get(name, MISSING)
        old = self.snapshot.get(name, MISSING)
        if new is MISSING or new is old:
            return
        value = self.pair(old, new) if old is not MISSING else self.canonical(new)
        if value is not new:
            self.ns[name] = value

    def _same(self, old: Any, new: Any) -> bool:
        return (
            defined_in(old, self.name)
            and defined_in(new, self.name)
            and getattr(old, "__qualname__", None) == getattr(new, "__qualname__", MISSING)
        )

    def canonical(self, new: Any) -> Any:
        """What to use in place of ``new``: the old object it was paired with, else ``new`` itself."""
        found = self._memo.get(id(new), MISSING)
        if found is not MISSING:
            return found
        if isinstance(new, FunctionType) and defined_in(new, self.name):
            self._remember(new, new)
            self._fix_cells(new)
        return new

    def pair(self, old: Any, new: Any) -> Any:
        """Patch ``old`` to act like ``new`` when they are the same definition; return what to bind."""
        if old is new:
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
            kept = self.canonical(value)
            if kept is not value:
                cell.cell_contents = kept  # a cell of the new code: nothing else holds it, no undo needed

    def _patch_function(self, old: FunctionType, new: FunctionType) -> Any:
        qualname = new.__qualname__
        if old.__code__.co_freevars != new.__code__.co_freevars:
            self.replaced.append(
                Replaced(qualname, "free variables changed (e.g. super() or a closure variable added), "
                         "so the old function object cannot take the new code; the new function replaces it")
            )
            return self.canonical(new)
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
        if old.__code__ is not new.__code__:
            if not same_except_lines(old.__code__, new.__code__) and qualname not in self.functions:
                self.functions.append(qualname)
            undo.set_attr(old, "__code__", new.__code__)
        defaults = None if new.__defaults__ is None else tuple(self.canonical(v) for v in new.__defaults__)
        kwdefaults = None if new.__kwdefaults__ is None else {k: self.canonical(v) for k, v in new.__kwdefaults__.items()}
        for attr, value in (
            ("__defaults__", defaults),
            ("__kwdefaults__", kwdefaults),
            ("__doc__", new.__doc__),
            ("__annotations__", new.__annotations__),
            ("__dict__", new_dict),
        ):
            # set unconditionally: comparing defaults could run arbitrary __eq__ (numpy arrays raise)
            undo.set_attr(old, attr, value)
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

