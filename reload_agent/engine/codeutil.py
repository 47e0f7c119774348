"""Code objects and the live functions that run them.

On Python 3.11+ every code object knows its ``co_qualname``, so a module compiled
once (never executed) gives a map qualname -> new code. The live side is found by
walking the module: its dict, class dicts, descriptor wrappers, ``__wrapped__``
chains and closures.

>>> code = compile("class A:\\n    def m(self):\\n        return 1\\n", "<demo>", "exec")
>>> sorted(code_map(code))
['A', 'A.m']
"""

from __future__ import annotations

import functools
from types import CodeType, FunctionType, MethodType

TYPE_CHECKING = False
if TYPE_CHECKING:  # the import hook loads this module: typing would cost ~2 ms there
    from collections.abc import Iterator
    from typing import Any

__all__ = [
    "code_map",
    "shift_code",
    "same_except_lines",
    "docstring",
    "code_shape",
    "is_function_code",
    "live_functions",
    "functions_at",
    "defined_in",
    "own_dict",
]

_LAMBDA_LIKE = ("<lambda>", "<listcomp>", "<dictcomp>", "<setcomp>", "<genexpr>")


def _iter_code(code: CodeType) -> Iterator[CodeType]:
    stack = [code]
    while stack:
        c = stack.pop()
        yield c
        stack.extend(k for k in c.co_consts if isinstance(k, CodeType))


def code_map(code: CodeType) -> dict[str, list[CodeType]]:
    """qualname -> the code objects nested in ``code`` with that qualname (several: conditional definitions).

    The module's own code (``<module>``) and lambdas/comprehensions are left out: they have no unique name.
    """
    found: dict[str, list[CodeType]] = {}
    for c in _iter_code(code):
        if c is not code and c.co_name not in _LAMBDA_LIKE:
            found.setdefault(c.co_qualname, []).append(c)
    return found


def shift_code(code: CodeType, delta: int) -> CodeType:
    """``code`` moved ``delta`` lines (nested code too): the cheap answer to "only its line changed"."""
    if delta == 0:
        return code
    consts = tuple(shift_code(c, delta) if isinstance(c, CodeType) else c for c in code.co_consts)
    return code.replace(co_firstlineno=code.co_firstlineno + delta, co_consts=consts)


def same_except_lines(old: CodeType, new: CodeType) -> bool:
    """True when ``new`` is ``old`` moved up or down (line table is relative to the first line)."""
    return shift_code(old, new.co_firstlineno - old.co_firstlineno) == new


_CO_OPTIMIZED = 0x1
_CO_VARARGS = 0x4
_CO_VARKEYWORDS = 0x8


def is_function_code(code: CodeType) -> bool:
    """Function (or lambda, comprehension) code, as opposed to module or class body code."""
    return bool(code.co_flags & _CO_OPTIMIZED)


def code_shape(code: CodeType) -> tuple[Any, ...]:
    """Everything about module (or class body) code except function bodies and line numbers.

    Two texts whose module code has the same shape differ only inside function bodies:
    decorators, defaults, annotations, signatures, class bodies and module statements are
    all equal. Functions count by qualname, signature and flags (a ``yield`` added changes
    the flags); lambdas and comprehensions run at this level, so they count in full.
    """
    consts: list[Any] = []
    for c in code.co_consts:
        if isinstance(c, CodeType):
            if is_function_code(c) and c.co_name not in _LAMBDA_LIKE:
                nargs = c.co_argcount + c.co_kwonlyargcount + bool(c.co_flags & _CO_VARARGS)
                nargs += bool(c.co_flags & _CO_VARKEYWORDS)
                consts.append(("def", c.co_qualname, c.co_posonlyargcount, c.co_argcount, c.co_kwonlyargcount,
                               c.co_flags, c.co_varnames[:nargs]))
            else:
                consts.append(code_shape(c))
        else:
            # (type, repr): 1, 1.0 and True are equal as values but not as code
            consts.append((type(c).__name__, repr(c)))
    return (code.co_code, tuple(consts), code.co_names, code.co_varnames, code.co_freevars, code.co_cellvars,
            code.co_flags, code.co_exceptiontable, code.co_qualname)


def docstring(code: CodeType) -> str | None:
    """A function's docstring from its code (CPython 3.11 keeps it, or None, as the first constant)."""
    consts = code.co_consts
    return consts[0] if consts and isinstance(consts[0], str) else None


def defined_in(obj: Any, module_name: str) -> bool:
    """Is ``obj`` (function or class) defined by module ``module_name``? Never raises."""
    try:
        return obj.__module__ == module_name
    except Exception:  # noqa: BLE001 - exotic objects with a broken __module__
        return False


def own_dict(obj: Any) -> dict[str, Any]:
    """``obj.__dict__`` without ever running a ``__getattr__`` (proxies, mocks); {} when there is none."""
    # object.__getattribute__ so that a proxy's __getattr__ is never triggered.
    try:
        d = object.__getattribute__(obj, "__dict__")
    except AttributeError:
        return {}
    return d if isinstance(d, dict) else {}


def live_functions(namespace: dict[str, Any], module_name: str) -> Iterator[FunctionType]:
    """Every function object of ``module_name`` reachable from its namespace.

    Looks through classes of the module (nested too), ``staticmethod``/``classmethod``,
    ``property`` accessors, ``functools.partial``/``cached_property``, bound methods,
    ``__wrapped__`` chains and closure cells, so decorated functions are found too.
    Each function is yielded once.
    """
    seen: set[int] = set()
    stack: list[Any] = list(namespace.values())
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, FunctionType):
            if defined_in(obj, module_name):
                yield obj
            wrapped = obj.__dict__.get("__wrapped__")
            if wrapped is not None:
                stack.append(wrapped)
            for cell in obj.__closure__ or ():
                try:
                    value = cell.cell_contents
                except ValueError:
                    continue
                if isinstance(value, (FunctionType, type)):
                    stack.append(value)
        elif isinstance(obj, type):
            if defined_in(obj, module_name):
                stack.extend(obj.__dict__.values())
        elif isinstance(obj, (staticmethod, classmethod, MethodType)):
            stack.append(obj.__func__)
        elif isinstance(obj, property):
            stack.extend(f for f in (obj.fget, obj.fset, obj.fdel) if f is not None)
        elif isinstance(obj, (functools.partial, functools.cached_property)):
            stack.append(obj.func)
        elif callable(obj):
            wrapped = own_dict(obj).get("__wrapped__")  # lru_cache and other C wrappers
            if wrapped is not None:
                stack.append(wrapped)


def functions_at(namespace: dict[str, Any], module_name: str, qualname: str) -> list[FunctionType]:
    """The live functions running ``qualname``, looked up along its dotted path (``Class.method``).

    Much cheaper than :func:`live_functions` over the whole module; empty when the
    path does not lead there (the name was rebound or deleted).
    """
    parts = qualname.split(".")
    obj = namespace.get(parts[0])
    for part in parts[1:]:
        if not isinstance(obj, type):
            return []
        obj = obj.__dict__.get(part)
    if obj is None:
        return []
    return [fn for fn in live_functions({"": obj}, module_name) if fn.__code__.co_qualname == qualname]
