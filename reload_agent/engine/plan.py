"""Deciding how to reload a module, before anything in the process changes.

Given the text the module was loaded from (its :class:`SourceRecord`) and the new
text, :func:`plan_module` compiles what is needed and returns either a
:class:`PatchPlan` (swap ``__code__`` on live functions, no top-level code runs) or
a :class:`FullPlan` (re-run the top level, keeping identities: see ``patch.Adopter``).

Patch is possible when only function bodies changed (or lines moved):

- fast path: the text differs in one contiguous run of lines inside one function;
  only that function is compiled (inside stubs of its classes, so qualname, name
  mangling and the ``__class__`` cell come out right) and functions below it are
  just moved with ``code.replace(co_firstlineno=...)``;
- general path: the whole new text is compiled once; its module code must have the
  same *shape* as the old one (see ``codeutil.code_shape``: everything but function
  bodies and line numbers), then each live function gets the code of its qualname.
"""

from __future__ import annotations

import __future__
import bisect
import dataclasses
import functools
import operator
from types import CodeType, FunctionType, ModuleType
from typing import Any

from .codeutil import (
    code_map,
    code_shape,
    docstring,
    functions_at,
    is_function_code,
    live_functions,
    same_except_lines,
    shift_code,
)
from .defindex import DefEntry, DefIndex
from .sources import SourceRecord

__all__ = [
    "CompileFailure",
    "PatchImpossible",
    "PatchPlan",
    "FullPlan",
    "plan_module",
]


#: Compiler flags of ``from __future__`` imports: a function compiled alone must get its module's.
_FUTURE_FLAGS = functools.reduce(operator.or_, (getattr(__future__, f).compiler_flag for f in __future__.all_feature_names))


class CompileFailure(Exception):
    """The new source does not compile; ``error`` is the SyntaxError (or decode/value error)."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


class PatchImpossible(Exception):
    """Patch mode cannot express this edit (the message says why)."""


@dataclasses.dataclass
class PatchPlan:
    #: (live function, new code, docstring to set or ``...`` to leave it)
    swaps: list[tuple[FunctionType, CodeType, Any]]
    #: qualnames whose code really changed (not only moved), for the result
    functions: list[str]
    record: SourceRecord
    #: True when only the edited function was compiled (the fast path)
    fast: bool


@dataclasses.dataclass
class FullPlan:
    code: CodeType
    reason: str
    record: SourceRecord


def _compile(source: str, file: str) -> CodeType:
    try:
        return compile(source, file, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise CompileFailure(exc) from None


def _index(record: SourceRecord) -> DefIndex:
    idx = record.cache.get("index")
    if idx is None:
        idx = record.cache["index"] = DefIndex.scan(record.lines)
    return idx


def _new_record(old: SourceRecord, text: str, lines: list[str], stat: Any, data: bytes | None) -> SourceRecord:
    # the bytes are hashed only when a stale check needs the digest, not on the reload's path
    rec = SourceRecord(old.file, text, stat, None, trusted=True, data=data)
    rec.cache["lines"] = lines
    return rec


def _live(module: ModuleType, file: str) -> list[FunctionType]:
    """The module's live functions whose code comes from ``file``."""
    return [fn for fn in live_functions(vars(module), module.__name__) if fn.__code__.co_filename == file]


def _swaps_for(
    live: list[FunctionType], new_codes: dict[str, list[CodeType]]
) -> tuple[list[tuple[FunctionType, CodeType, Any]], list[str]]:
    """Pair live functions with new code of the same qualname; raise PatchImpossible when it can't be swapped.

    Several definitions with one qualname (a property's getter and setter, conditional
    definitions) are paired in source order when the counts agree.
    """
    by_code: dict[CodeType, list[FunctionType]] = {}
    for fn in live:
        code = fn.__code__
        if code.co_qualname in new_codes:
            by_code.setdefault(code, []).append(fn)
    by_name: dict[str, list[CodeType]] = {}
    for code in by_code:
        by_name.setdefault(code.co_qualname, []).append(code)
    swaps: list[tuple[FunctionType, CodeType, Any]] = []
    changed: list[str] = []
    for qualname, olds in by_name.items():
        candidates = new_codes[qualname]
        if len(candidates) == 1:
            pairs = [(old, candidates[0]) for old in olds]
        elif len(olds) == len(candidates):
            pairs = list(zip(sorted(olds, key=_first_line), sorted(candidates, key=_first_line)))
        elif all(old in candidates for old in olds):
            continue
        else:
            raise PatchImpossible(f"{qualname} is defined more than once, cannot tell which definition changed")
        for old, new in pairs:
            if new == old:
                continue
            if new.co_freevars != old.co_freevars:
                raise PatchImpossible(_freevars_reason(qualname, old, new))
            for fn in by_code[old]:
                swaps.append((fn, new, docstring(new) if fn.__doc__ == docstring(old) else ...))
            if not same_except_lines(old, new) and qualname not in changed:
                changed.append(qualname)
    return swaps, changed


def _freevars_reason(qualname: str, old: CodeType, new: CodeType) -> str:
    return (
        f"free variables of {qualname} changed ({', '.join(old.co_freevars) or 'none'} -> "
        f"{', '.join(new.co_freevars) or 'none'}), its closure cannot take the new code"
    )


def _first_line(code: CodeType) -> int:
    return code.co_firstlineno


def _fast_path(
    module: ModuleType,
    record: SourceRecord,
    text: str,
    new_lines: list[str],
    stat: Any,
    data: bytes | None,
) -> PatchPlan | None:
    """Compile only the functions whose text changed; None when the edit is not of that shape.

    Walks the loaded text's definitions in order and finds each in the new text (same
    header line, same text between definitions). A definition whose text differs is
    compiled alone, old and new (inside stubs of its classes); equal code shapes mean
    same decorators, defaults and signature, and still exactly one definition: only the
    body changed. Everything else only moved, by a known number of lines.
    """
    old = record.lines
    new = new_lines
    file = record.file
    index = _index(record)
    entries = index.entries
    first, hi, _ = _changed_region(old, new)
    if not entries or first < entries[0].start - 1:
        return None  # the text before the first definition changed
    # Definitions whose text, following text and next header all come before the first change
    # are unchanged in place; the walk starts after them and stops once past the last change.
    skip = max(bisect.bisect_right(index.starts, first) - 1, 0)
    offsets: list[int] = [0] * skip  # per entry: new line - old line at its start
    new_entries: list[DefEntry] = entries[:skip]
    changed: list[tuple[DefEntry, int]] = []  # (entry, new end line)
    total = len(new) - len(old)
    d = 0
    for i in range(skip, len(entries)):
        e = entries[i]
        if e.start - 1 >= hi and d == total:
            offsets.extend([d] * (len(entries) - i))
            if d:
                new_entries.extend(DefEntry(x.start + d, x.end + d, x.qualname, x.stubs) for x in entries[i:])
            else:
                new_entries.extend(entries[i:])
            break
        lo = e.start - 1
        if i + 1 < len(entries):
            nxt = entries[i + 1]
            if new[lo + d : nxt.start + d] == old[lo : nxt.start]:  # entry, gap and next header unchanged
                offsets.append(d)
                new_entries.append(DefEntry(e.start + d, e.end + d, e.qualname, e.stubs) if d else e)
                continue
            gap = old[e.end : nxt.start - 1]
            try:
                anchor = new.index(old[nxt.start - 1], lo + d + 1)  # the next definition's header
            except ValueError:
                return None
            end = anchor - len(gap)
            if end <= lo + d or new[end:anchor] != gap:
                return None
            after = anchor - (nxt.start - 1)
        else:
            tail = old[e.end :]
            end = len(new) - len(tail)
            if end <= lo + d or new[end:] != tail:
                return None
            after = end - e.end
            if after == d and new[lo + d : end] == old[lo : e.end]:
                offsets.append(d)
                new_entries.append(DefEntry(e.start + d, e.end + d, e.qualname, e.stubs) if d else e)
                continue
        offsets.append(d)
        new_entries.append(DefEntry(e.start + d, end, e.qualname, e.stubs))
        changed.append((e, end))
        d = after
    if not changed:
        return None  # only text between definitions changed: the general path decides
    # Nothing moved: the changed functions are all there is to find, along their own paths.
    live = _changed_functions(module, file, [e.qualname for e, _ in changed]) if not d and not any(offsets) else None
    targeted = live is not None
    if live is None:
        live = _live(module, file)
    shapes: dict[tuple[int, int, str], Any] = record.cache.setdefault("snippets", {})
    new_shapes: dict[tuple[int, int, str], Any] = {}
    new_codes: dict[str, list[CodeType]] = {}
    for e, end in changed:
        delta = offsets[entries.index(e)]
        targets = [fn for fn in live if fn.__code__.co_qualname == e.qualname]
        # The index is a hint: the live function must really start where the index says.
        if not targets or any(fn.__code__.co_firstlineno != e.start for fn in targets):
            return None
        flags = targets[0].__code__.co_flags & _FUTURE_FLAGS
        key = (e.start, e.end, e.qualname)
        old_shape = shapes.get(key)
        if old_shape is None:
            old_code = _snippet(old, e, e.start, e.end, file, flags)
            if old_code is None:
                return None
            old_shape = shapes[key] = code_shape(old_code)
        code = _snippet(new, e, e.start + delta, end, file, flags)
        if code is None:
            return None
        codes = code_map(code)
        target = codes.get(e.qualname)
        if not target:
            return None
        if target[0].co_freevars != targets[0].__code__.co_freevars:
            raise PatchImpossible(_freevars_reason(e.qualname, targets[0].__code__, target[0]))
        shape = code_shape(code)
        if shape != old_shape:
            return None  # a decorator, default or signature changed, or the edit left the definition
        new_shapes[(e.start + delta, end, e.qualname)] = shape
        prefix = e.qualname + "."
        new_codes.update((q, c) for q, c in codes.items() if q == e.qualname or q.startswith(prefix))
    if targeted and len(new_codes) > len(changed):
        live = _live(module, file)  # nested functions changed too: their live closures can be anywhere
    swaps, functions = _swaps_for(live, new_codes)
    swapped = {id(fn) for fn, _, _ in swaps}
    starts = index.starts
    for fn in live:
        c = fn.__code__
        if id(fn) in swapped or c.co_qualname in new_codes:
            continue
        i = bisect.bisect_right(starts, c.co_firstlineno) - 1
        # inside (or after) entry i: it moved with that entry, or with the text after it
        shift = 0 if i < 0 else offsets[i] if c.co_firstlineno <= entries[i].end else _after(i, offsets, changed, entries)
        if shift:
            swaps.append((fn, shift_code(c, shift), ...))
    rec = _new_record(record, text, new, stat, data)
    rec.cache["index"] = DefIndex(new_entries, presorted=True)
    rec.cache["snippets"] = new_shapes
    return PatchPlan(swaps, functions, rec, fast=True)


def _changed_functions(module: ModuleType, file: str, qualnames: list[str]) -> list[FunctionType] | None:
    """The live functions of ``qualnames`` found along their paths; None when one is not found that way."""
    found: list[FunctionType] = []
    for qualname in qualnames:
        fns = [fn for fn in functions_at(vars(module), module.__name__, qualname) if fn.__code__.co_filename == file]
        if not fns:
            return None
        found.extend(fns)
    return found


def _after(i: int, offsets: list[int], changed: list[tuple[DefEntry, int]], entries: list[DefEntry]) -> int:
    """Line offset of the text that follows entry ``i`` (the next entry's, or the end's)."""
    if i + 1 < len(offsets):
        return offsets[i + 1]
    e = entries[i]
    for entry, end in changed:
        if entry is e:
            return end - e.end
    return offsets[i]


def _snippet(lines: list[str], entry: DefEntry, start: int, end: int, file: str, flags: int) -> CodeType | None:
    """Compile lines ``start..end`` alone, inside stubs of ``entry``'s classes, at their real line numbers.

    The stubs give the right ``co_qualname``, private-name mangling and ``__class__`` cell.
    """
    k = len(entry.stubs)
    if start - 1 < k or end > len(lines) or end < start:
        return None
    stubs = "".join(f"{ws}class {name}:\n" for name, ws in entry.stubs)
    text = "\n" * (start - 1 - k) + stubs + "".join(lines[start - 1 : end])
    try:
        return compile(text, file, "exec", flags=flags, dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _compiled_of(record: SourceRecord) -> tuple[tuple[Any, ...], dict[str, list[CodeType]]] | None:
    """Shape and code map of the loaded text (compiled once, then kept with the record)."""
    found = record.cache.get("compiled")
    if found is None:
        try:
            code = compile(record.text or "", record.file, "exec", dont_inherit=True)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None
        found = record.cache["compiled"] = (code_shape(code), code_map(code))
    return found


def _unreachable(old_codes: dict[str, list[CodeType]], new_codes: dict[str, list[CodeType]],
                 live: list[FunctionType]) -> list[str]:
    """Module functions and methods whose code changed but that no live function object runs.

    A decorator that returns some other object without ``__wrapped__`` (a command, a rule)
    hides the function: patching cannot reach it, the top level must run again.
    """
    running = {fn.__code__.co_qualname for fn in live}
    hidden = []
    for qualname, news in new_codes.items():
        if "<locals>" in qualname or qualname in running or not is_function_code(news[0]):
            continue  # nested functions need not exist yet; class bodies are not functions
        olds = sorted(old_codes.get(qualname, []), key=_first_line)
        if len(olds) != len(news) or any(
            not same_except_lines(o, n) for o, n in zip(olds, sorted(news, key=_first_line))
        ):
            hidden.append(qualname)
    return hidden


def _changed_region(old: list[str], new: list[str]) -> tuple[int, int, int]:
    """The one run of lines that differs: ``old[lo:hi]`` became ``new[lo:new_hi]``.

    Bisects with slice comparisons (done in C) rather than stepping line by line.
    """
    n = min(len(old), len(new))
    lo, top = 0, n  # old[:lo] == new[:lo]; the first difference is before top (or there is none)
    while top - lo > 8:
        mid = (lo + top) // 2
        if old[lo:mid] == new[lo:mid]:
            lo = mid
        else:
            top = mid
    while lo < top and old[lo] == new[lo]:
        lo += 1
    a, b = len(old), len(new)
    tail, top = 0, n - lo  # the last `tail` lines are equal; no more than n - lo can be
    while top - tail > 8:
        mid = (tail + top) // 2
        if old[a - mid : a - tail] == new[b - mid : b - tail]:
            tail = mid
        else:
            top = mid
    while tail < top and old[a - 1 - tail] == new[b - 1 - tail]:
        tail += 1
    return lo, a - tail, b - tail


def _has_code(lines: list[str]) -> bool:
    return any(line.strip() and not line.lstrip().startswith("#") for line in lines)


def plan_module(
    module: ModuleType,
    record: SourceRecord | None,
    text: str,
    *,
    stat: Any,
    data: bytes | None,
    mode: str,
) -> PatchPlan | FullPlan:
    """How to bring ``module`` to ``text`` (``data``: its bytes, if known; the record hashes them when asked).

    Raises CompileFailure, or PatchImpossible when ``mode == "patch"``.
    """
    file = module.__file__
    assert isinstance(file, str)
    base = record if record is not None else SourceRecord(file, None, None, None, trusted=False)
    new_lines = text.splitlines(keepends=True)

    def full(reason: str, code: CodeType | None = None, compiled: tuple[Any, Any] | None = None) -> FullPlan:
        if mode == "patch":
            raise PatchImpossible(reason)
        rec = _new_record(base, text, new_lines, stat, data)
        if compiled is not None:
            rec.cache["compiled"] = compiled
        return FullPlan(code if code is not None else _compile(text, file), reason, rec)

    if mode == "full":
        return full("full reload requested")
    if record is None or not record.trusted or record.text is None:
        return full("the source this module was loaded from is unknown, so the edit cannot be isolated")
    if text == record.text:
        return PatchPlan([], [], _new_record(record, text, new_lines, stat, data), fast=True)
    try:
        plan = _fast_path(module, record, text, new_lines, stat, data)
    except PatchImpossible as exc:
        return full(str(exc))
    if plan is not None:
        return plan
    lo, hi, new_hi = _changed_region(record.lines, new_lines)
    if not _index(record).overlaps(lo, hi) and (_has_code(record.lines[lo:hi]) or _has_code(new_lines[lo:new_hi])):
        return full(f"module-level code changed (line {lo + 1})")
    # General path: the module code must have the same shape (only function bodies differ).
    code = _compile(text, file)
    shape, new_codes = code_shape(code), code_map(code)
    compiled = (shape, new_codes)
    loaded = _compiled_of(record)
    if loaded is None or shape != loaded[0]:
        return full(
            "code outside function bodies changed (module or class level, a signature, a default or a decorator)",
            code,
            compiled,
        )
    live = _live(module, file)
    hidden = _unreachable(loaded[1], new_codes, live)
    if hidden:
        return full(
            f"{', '.join(hidden)} changed but no live function object runs it (a decorator may hide it)",
            code,
            compiled,
        )
    try:
        swaps, changed = _swaps_for(live, new_codes)
    except PatchImpossible as exc:
        return full(str(exc), code, compiled)
    rec = _new_record(record, text, new_lines, stat, data)
    rec.cache["compiled"] = compiled
    return PatchPlan(swaps, changed, rec, fast=False)
