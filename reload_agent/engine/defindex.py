"""Where each reachable function of a source text starts and ends, found by a line scan.

"Reachable" means defined at module level or in a class body (possibly nested):
the functions a reload can patch. The scan is deliberately simple (indentation,
decorators, ``def``/``class`` headers, no tokenizer) because it is only a hint:
the fast patch path re-parses the old and new text of the one function it picks and
checks it against the live function before trusting it. It runs once per loaded
text, and is updated, not rebuilt, after a fast patch.

>>> idx = DefIndex.scan(["class A:\\n", "    @staticmethod\\n", "    def m():\\n", "        return 1\\n"])
>>> idx.entries[0]
DefEntry(start=2, end=4, qualname='A.m', stubs=(('A', ''),))
"""

from __future__ import annotations

import bisect
import dataclasses
import re
from typing import NamedTuple

__all__ = ["DefEntry", "DefIndex"]

_HEADER = re.compile(r"(?:async[ \t]+)?(def|class)[ \t]+([^\W\d]\w*)")


class DefEntry(NamedTuple):
    #: First line (1-based) of the definition: its first decorator, else the ``def`` line.
    start: int
    #: Last line holding code of the definition.
    end: int
    qualname: str
    #: Enclosing classes, outermost first: (name, the class line's leading whitespace).
    stubs: tuple[tuple[str, str], ...]


@dataclasses.dataclass
class _Block:
    indent: int
    is_class: bool
    name: str
    start: int
    end: int
    reachable: bool
    ws: str


class DefIndex:
    """Reachable function definitions sorted by start line, looked up by bisection."""

    def __init__(self, entries: list[DefEntry], presorted: bool = False) -> None:
        self.entries = entries if presorted else sorted(entries, key=lambda e: e.start)
        self.starts = [e.start for e in self.entries]

    @classmethod
    def scan(cls, lines: list[str]) -> DefIndex:
        entries: list[DefEntry] = []
        stack: list[_Block] = []
        decorator_start: int | None = None
        decorator_indent = -1

        def close(block: _Block) -> None:
            if block.reachable and not block.is_class:
                classes = [b for b in stack if b.is_class]
                qualname = ".".join([b.name for b in classes] + [block.name])
                entries.append(DefEntry(block.start, block.end, qualname, tuple((b.name, b.ws) for b in classes)))

        for lineno, line in enumerate(lines, 1):
            body = line.lstrip(" \t")
            if not body.strip() or body.startswith("#"):
                continue
            indent = len(line) - len(body)
            if body[0] in ")]}":
                # a bracket closing a multi-line expression: part of the statement above
                if stack:
                    stack[-1].end = lineno
                continue
            while stack and indent <= stack[-1].indent:
                close(stack.pop())
            for b in stack:
                b.end = lineno
            if decorator_start is not None and indent > decorator_indent:
                continue  # inside a multi-line decorator
            if body.startswith("@"):
                if decorator_start is None or decorator_indent != indent:
                    decorator_start, decorator_indent = lineno, indent
                continue
            match = _HEADER.match(body)
            if match:
                start = decorator_start if decorator_start is not None and decorator_indent == indent else lineno
                reachable = all(b.is_class and b.reachable for b in stack)
                stack.append(
                    _Block(indent, match.group(1) == "class", match.group(2), start, lineno, reachable, line[:indent])
                )
            decorator_start = None
        while stack:
            close(stack.pop())
        return cls(entries)

    def overlaps(self, lo: int, hi: int) -> bool:
        """Do the old lines ``lo:hi`` (0-based, half open) touch any definition?"""
        i = bisect.bisect_right(self.starts, max(hi, lo + 1)) - 1
        return i >= 0 and self.entries[i].end > lo

