"""The undo log: every change a transaction makes, recorded so it can be reversed.

A transaction never deep-copies anything. Each change is recorded as a step
holding what is needed to reverse it (the object, the attribute, the previous
value); failure or a later rollback replays the steps newest first.

>>> class Box: pass
>>> b = Box(); b.x = 1
>>> log = UndoLog()
>>> log.set_attr(b, "x", 2); b.x
2
>>> _ = log.undo(); b.x
1
"""

from __future__ import annotations

import sys
from types import CellType, ModuleType
from typing import Any, Callable

__all__ = ["MISSING", "UndoLog"]


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


#: Marks "there was no value" (an absent attribute, an empty cell, a new dict key).
MISSING: Any = _Missing()


class _NamespaceStep:
    """A module dict before a full reload; ``after`` is filled in at commit."""

    __slots__ = ("ns", "before", "after")

    def __init__(self, ns: dict[str, Any], before: dict[str, Any]) -> None:
        self.ns = ns
        self.before = before
        self.after: dict[str, Any] | None = None

    def __call__(self, exact: bool) -> None:
        if exact or self.after is None:
            # clear + update: a plain update would leave the failed code's new names behind.
            self.ns.clear()
            self.ns.update(self.before)
            return
        # A later rollback: undo what the transaction changed, but keep what the program changed since
        # (a counter it incremented, a name it set), because that is newer state, not the reload's.
        after, before, ns = self.after, self.before, self.ns
        for key in set(after) | set(before):
            if key in after:
                if ns.get(key, MISSING) is not after[key]:
                    continue
            elif key in ns:
                continue
            if key in before:
                ns[key] = before[key]
            else:
                ns.pop(key, None)


class UndoLog:
    """Records changes as they are made; :meth:`undo` reverses them, newest first."""

    def __init__(self) -> None:
        self._steps: list[Callable[[bool], None]] = []
        self._namespaces: list[_NamespaceStep] = []

    def __len__(self) -> int:
        return len(self._steps)

    def set_attr(self, obj: Any, name: str, value: Any) -> None:
        """``setattr`` remembering the previous value (functions: ``__code__``, ``__defaults__``...)."""
        old = getattr(obj, name)
        setattr(obj, name, value)
        self._steps.append(lambda exact: setattr(obj, name, old))

    def set_attrs(self, obj: Any, changes: list[tuple[str, Any]]) -> None:
        """Several ``setattr`` on one object, reversed as one step: ``[(name, value), ...]``.

        >>> class Box: pass
        >>> b = Box(); b.x, b.y = 1, 2
        >>> log = UndoLog(); log.set_attrs(b, [("x", 10), ("y", 20)]); (b.x, b.y, len(log))
        (10, 20, 1)
        >>> _ = log.undo(); (b.x, b.y)
        (1, 2)
        """
        old = [(name, getattr(obj, name)) for name, _ in changes]
        try:
            for name, value in changes:
                setattr(obj, name, value)
        finally:
            # registered even when a setattr raised: the ones before it are undone with the rest
            def restore(exact: bool) -> None:
                for name, value in reversed(old):
                    setattr(obj, name, value)

            self._steps.append(restore)

    def set_codes(self, changes: list[tuple[Any, Any]]) -> None:
        """Give each function its new ``__code__``: ``[(function, code), ...]``, one step for all of them."""
        old = [(fn, fn.__code__) for fn, _ in changes]
        for fn, code in changes:
            fn.__code__ = code

        def restore(exact: bool) -> None:
            for fn, code in reversed(old):
                fn.__code__ = code

        self._steps.append(restore)

    def set_class_attr(self, cls: type, name: str, value: Any) -> None:
        """Set (``value`` given) or delete (``value is MISSING``) an entry of ``cls.__dict__``."""
        old = cls.__dict__.get(name, MISSING)
        if value is MISSING:
            delattr(cls, name)
        else:
            setattr(cls, name, value)

        def restore(exact: bool) -> None:
            if old is MISSING:
                if name in cls.__dict__:
                    delattr(cls, name)
            else:
                setattr(cls, name, old)

        self._steps.append(restore)

    def set_cell(self, cell: CellType, value: Any) -> None:
        try:
            old = cell.cell_contents
        except ValueError:
            old = MISSING
        cell.cell_contents = value

        def restore(exact: bool) -> None:
            if old is MISSING:
                del cell.cell_contents
            else:
                cell.cell_contents = old

        self._steps.append(restore)

    def namespace(self, ns: dict[str, Any]) -> dict[str, Any]:
        """Snapshot a module dict before its top level is re-executed into it; returns the snapshot."""
        step = _NamespaceStep(ns, dict(ns))
        self._namespaces.append(step)
        self._steps.append(step)
        return step.before

    def new_modules(self, added: dict[str, ModuleType]) -> None:
        """``sys.modules`` entries the transaction imported for the first time: removed if it fails.

        A later rollback leaves them loaded: other code may have imported them since, and
        removing them would make the next import create a second copy.
        """

        def restore(exact: bool) -> None:
            if not exact:
                return
            for name, module in added.items():
                if sys.modules.get(name) is module:
                    del sys.modules[name]

        self._steps.append(restore)

    def call(self, undo: Callable[[], None]) -> None:
        """Any other reversal (a record swapped in a registry, a version bumped)."""
        self._steps.append(lambda exact: undo())

    def commit(self) -> None:
        """Mark the end of a successful transaction: namespaces remember their new state."""
        for step in self._namespaces:
            step.after = dict(step.ns)

    def undo(self, *, exact: bool = True) -> list[BaseException]:
        """Reverse every step, newest first; returns the errors of steps that failed (others still run).

        ``exact`` (failure of the running transaction) puts namespaces back exactly; ``exact=False``
        (rollback of an older transaction) keeps names the program changed after it.
        """
        errors: list[BaseException] = []
        steps, self._steps, self._namespaces = self._steps, [], []
        for step in reversed(steps):
            try:
                step(exact)
            except BaseException as exc:  # noqa: BLE001 - one broken step must not stop the others
                errors.append(exc)
        return errors

