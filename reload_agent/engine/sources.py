"""The source each module was loaded from, and whether its file changed since.

Patch mode compares the new text with the text the running code was compiled
from, so that text must be recorded when the module is imported (the file on
disk already holds the edit when a reload is asked for). ``install_import_hook()``
puts a finder first on ``sys.meta_path`` that reads the source of every module
imported afterwards (also through ``importlib.reload``). Modules imported before it
get their stat recorded; their text is read lazily and trusted only if it
compiles to the code the live functions run.

Stale detection is stat first; only a changed stat costs a read and a hash.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys
import threading
from types import ModuleType

from .codeutil import code_map, live_functions
from .modules import is_protected, source_file

TYPE_CHECKING = False
if TYPE_CHECKING:  # the import hook loads this module: typing would cost ~2 ms there
    from collections.abc import Sequence
    from typing import Any

__all__ = [
    "SourceRecord",
    "StatKey",
    "install_import_hook",
    "record_for",
    "scan_entries",
    "ScanEntry",
    "generation",
    "set_record",
    "forget",
    "loaded_source",
    "is_stale",
    "stat_key",
    "digest",
    "read_source",
    "is_library_file",
    "observe_loaded",
]

StatKey = tuple[int, int, int]


def stat_key(path: str) -> StatKey | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def digest(data: bytes) -> bytes:
    # Imported here, on first use: hashlib loads OpenSSL (~2.5 ms), which the first stale check would
    # pay; its blake2b comes from the small _blake2 module, taken directly when CPython has it.
    try:
        from _blake2 import blake2b
    except ImportError:  # pragma: no cover - a Python without the builtin module
        from hashlib import blake2b
    return blake2b(data, digest_size=16).digest()


def read_source(path: str) -> tuple[bytes, StatKey | None]:
    """The file's bytes and its stat taken just before reading (a later edit then shows as a stat change)."""
    key = stat_key(path)
    with open(path, "rb") as f:
        return f.read(), key


def decode(data: bytes) -> str:
    """Source bytes -> text, honouring a PEP 263 coding line, with universal newlines."""
    return importlib.util.decode_source(data)


class SourceRecord:
    """What we know about the source a module's running code came from.

    ``text`` is None when unknown (only the stat was recorded). ``trusted`` says the
    text is known to be what the running code was compiled from (patch mode needs it).
    Records are replaced, never edited, when a reload commits, so the undo log can put
    the previous one back; ``cache`` holds derived data (def index, compiled shape).
    """

    __slots__ = ("file", "_text", "_data", "stat", "_digest", "trusted", "cache", "seen")

    def __init__(
        self,
        file: str,
        text: str | None,
        stat: StatKey | None,
        digest: bytes | None,
        trusted: bool,
        data: bytes | None = None,
    ) -> None:
        self.file = file
        self._text = text
        #: raw bytes captured at import, decoded and hashed only when needed (imports stay cheap)
        self._data = data
        self.stat = stat
        self._digest = digest
        self.trusted = trusted
        self.cache: dict[str, Any] = {}
        #: (stat seen, stale answer) of the last stale check, so an unchanged stat costs nothing.
        self.seen: tuple[StatKey | None, bool] | None = None

    @property
    def text(self) -> str | None:
        if self._text is None and self._data is not None:
            try:
                self._text = decode(self._data)
            except (SyntaxError, UnicodeDecodeError, LookupError):
                self.trusted = False
                return None
            if self._digest is None:
                self._digest = digest(self._data)
            self._data = None
        return self._text

    @property
    def digest(self) -> bytes | None:
        if self._digest is None and self._data is not None:
            self._digest = digest(self._data)
            if self._text is not None:
                self._data = None
        return self._digest

    @property
    def lines(self) -> list[str]:
        lines = self.cache.get("lines")
        if lines is None:
            lines = self.cache["lines"] = (self.text or "").splitlines(keepends=True)
        return lines


#: (file, mtime_ns, size, inode, module name): what a stale scan checks for one module.
ScanEntry = tuple[str, int, int, int, str]


class _Records(dict):  # type: ignore[type-arg]
    """The records by module name; ``generation`` changes whenever an entry does (scans cache by it).

    ``scan`` holds the scan entry of every trusted record with a stat, kept as records are set:
    the first stale scan after 10,000 imports then needs no pass over the records.
    """

    generation = 0

    def __init__(self) -> None:
        super().__init__()
        self.scan: dict[str, ScanEntry] = {}

    def __setitem__(self, name: str, record: SourceRecord) -> None:
        self.generation += 1
        super().__setitem__(name, record)
        stat = record.stat
        if record.trusted and stat is not None and not is_protected(name):
            self.scan[name] = (record.file, stat[0], stat[1], stat[2], name)
        else:
            self.scan.pop(name, None)

    def pop(self, name: str, default: Any = None) -> Any:
        self.generation += 1
        self.scan.pop(name, None)
        return super().pop(name, default)


_records: _Records = _Records()
_hook_lock = threading.Lock()
_hook: "_CapturingFinder | None" = None


def record_for(name: str, module: ModuleType | None = None) -> SourceRecord | None:
    """The record of module ``name``; ``None`` if none, or if it is for another file than ``module``'s."""
    rec = _records.get(name)
    if rec is not None and module is not None and rec.file != getattr(module, "__file__", None):
        return None
    return rec


def scan_entries() -> dict[str, ScanEntry]:
    """Scan entries by module name, for the modules whose source was read (read it, do not change it)."""
    return _records.scan


def generation() -> int:
    """Changes whenever a record is added, replaced or removed."""
    return _records.generation


def set_record(name: str, record: SourceRecord | None) -> None:
    if record is None:
        _records.pop(name, None)
    else:
        _records[name] = record


def forget(name: str) -> None:
    _records.pop(name, None)


_capturing = threading.local()


def _capture(name: str, path: str) -> None:
    # Decoding and hashing may import (tokenize, hashlib): those imports come back through the
    # finder, which must then just find them, not capture again (that would recurse).
    if getattr(_capturing, "active", False):
        return
    _capturing.active = True
    try:
        data, key = read_source(path)
        _records[name] = SourceRecord(path, None, key, None, trusted=True, data=data)
    except OSError:
        return
    finally:
        _capturing.active = False


class _CapturingFinder:
    """First on ``sys.meta_path``: asks the finders after it, and records the source of what they find.

    The loader is left untouched (no wrapper), so nothing that inspects ``__loader__``
    notices; the text is read in ``find_spec``, right before the loader reads it.
    """

    def find_spec(self, name: str, path: Sequence[str] | None, target: ModuleType | None = None) -> Any:
        finders = sys.meta_path
        try:
            start = finders.index(self) + 1
        except ValueError:
            return None
        for finder in finders[start:]:
            find = getattr(finder, "find_spec", None)
            if find is None:
                continue
            spec = find(name, path, target)
            if spec is not None:
                break
        else:
            return None
        origin = spec.origin
        if (
            spec.has_location
            and isinstance(origin, str)
            and origin.endswith((".py", ".pyw"))
            and isinstance(spec.loader, importlib.machinery.SourceFileLoader)
        ):
            _capture(name, origin)
        return spec

    def invalidate_caches(self) -> None:
        return None


def install_import_hook() -> None:
    """Record the source of every module imported from now on (idempotent, thread-safe).

    Also records the stat of modules already loaded, so an edit made after this
    point is recognised as one (their text is read lazily, see :func:`loaded_source`).
    """
    global _hook
    with _hook_lock:
        if _hook is None or _hook not in sys.meta_path:
            _hook = _CapturingFinder()
            sys.meta_path.insert(0, _hook)
    observe_loaded()


def observe_loaded() -> None:
    """Record a stat baseline for loaded modules that have no record yet (cheap: stat only)."""
    for name, module in list(sys.modules.items()):
        file = source_file(module) if module is not None else None
        if file is not None and name not in _records:
            _records[name] = SourceRecord(file, None, stat_key(file), None, trusted=False)


_LIBRARY_DIRS: tuple[str, ...] | None = None


def is_library_file(path: str) -> bool:
    """Is ``path`` in the standard library or an installed package (not the user's project)?"""
    global _LIBRARY_DIRS
    if _LIBRARY_DIRS is None:
        import sysconfig  # here: only a module loaded before the hook is ever classified

        paths = sysconfig.get_paths()
        dirs = {os.path.realpath(paths[k]) for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths}
        _LIBRARY_DIRS = tuple(d.rstrip(os.sep) + os.sep for d in dirs)
    if "site-packages" in path or "dist-packages" in path:
        return True
    return os.path.realpath(path).startswith(_LIBRARY_DIRS)


def _matches_live_code(module: ModuleType, text: str, file: str) -> bool:
    """Does ``text`` compile to the code the module's live functions run?"""
    try:
        compiled = code_map(compile(text, file, "exec", dont_inherit=True))
    except (SyntaxError, ValueError):
        return False
    for fn in live_functions(vars(module), module.__name__):
        code = fn.__code__
        if code.co_filename != file or code.co_name == "<lambda>":
            continue
        candidates = compiled.get(code.co_qualname)
        if candidates and code not in candidates:
            return False
    return True


def loaded_source(name: str, module: ModuleType) -> SourceRecord | None:
    """The record of ``module`` with its loaded text when it can be known, reading the file lazily.

    A module imported before the hook gets its file read now, and is trusted only if
    the file has not changed since its stat was recorded and it is a project file
    whose text compiles to the live functions' code.
    """
    file = getattr(module, "__file__", None)
    if not isinstance(file, str):
        return None
    rec = record_for(name, module)
    if rec is not None and rec.text is not None:
        return rec
    try:
        data, key = read_source(file)
        text = decode(data)
    except (OSError, SyntaxError, UnicodeDecodeError, LookupError):
        return rec
    unchanged = rec is None or rec.stat == key
    trusted = unchanged and not is_library_file(file) and _matches_live_code(module, text, file)
    if not trusted:
        # The text on disk is not known to be what runs: keep only the baseline, patch mode is off.
        return rec if rec is not None else _remember(name, SourceRecord(file, None, key, None, trusted=False))
    return _remember(name, SourceRecord(file, text, key, digest(data), trusted=True))


def _remember(name: str, rec: SourceRecord) -> SourceRecord:
    _records[name] = rec
    return rec


def is_stale(name: str, file: str) -> bool:
    """Has ``file`` changed since module ``name`` was loaded or last reloaded? (stat, then hash)"""
    key = stat_key(file)
    rec = _records.get(name)
    if rec is None or rec.file != file:
        # First sight: this is the baseline.
        _records[name] = SourceRecord(file, None, key, None, trusted=False)
        return False
    if key is None or key == rec.stat:
        return False
    seen = rec.seen
    if seen is not None and seen[0] == key:
        return seen[1]
    if rec.digest is None:
        stale = True  # no content to compare with: a changed stat is all we know
    else:
        try:
            with open(file, "rb") as f:
                stale = digest(f.read()) != rec.digest
        except OSError:
            stale = False
    rec.seen = (key, stale)
    return stale
