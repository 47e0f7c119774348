"""Transaction history: what each reload did, which ones can still be undone, and overlap rules.

Every transaction (reload, failed reload, rollback) gets a record. A successful
reload also keeps its undo log until it is rolled back or pushed out: each module
keeps at most ``depth`` undoable transactions, older ones are released (their old
code and namespace values can then be freed).
"""

from __future__ import annotations

import dataclasses
import datetime

from .results import RollbackError, TransactionRecord
from .undo import UndoLog

__all__ = ["Entry", "History", "now_iso"]

#: Records kept for display, whatever the depth (undo logs are bounded separately).
MAX_RECORDS = 1000


def now_iso() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")


@dataclasses.dataclass(eq=False)
class Entry:
    record: TransactionRecord
    undo: UndoLog | None = None

    @property
    def undoable(self) -> bool:
        r = self.record
        return r.kind == "reload" and r.ok and not r.rolled_back and self.undo is not None


class History:
    def __init__(self, depth: int) -> None:
        if depth < 1:
            raise ValueError("history depth must be at least 1")
        self.depth = depth
        self._entries: list[Entry] = []  # oldest first
        self._undoable: dict[str, list[Entry]] = {}  # per module, oldest first

    def add(self, entry: Entry) -> None:
        self._entries.append(entry)
        if entry.undoable:
            for module in entry.record.modules:
                holding = [e for e in self._undoable.get(module, ()) if e.undoable]
                holding.append(entry)
                while len(holding) > self.depth:
                    old = holding.pop(0)
                    old.undo = None
                self._undoable[module] = holding
        if len(self._entries) > MAX_RECORDS:
            del self._entries[: len(self._entries) - MAX_RECORDS]

    def records(self, limit: int | None = None) -> list[TransactionRecord]:
        """Newest first."""
        entries = self._entries[::-1]
        if limit is not None:
            entries = entries[: max(limit, 0)]
        return [dataclasses.replace(e.record, modules=list(e.record.modules)) for e in entries]

    def target(self, module: str | None, transaction: int | None) -> Entry:
        """The reload to undo for these arguments, or RollbackError saying why there is none."""
        reloads = [e for e in self._entries if e.record.kind == "reload" and e.record.ok]
        if transaction is not None:
            entry = next((e for e in reloads if e.record.id == transaction), None)
            if entry is None:
                raise RollbackError(f"transaction {transaction} is not a successful reload in the history")
            if entry.record.rolled_back:
                raise RollbackError(f"transaction {transaction} was already rolled back")
        else:
            live = [e for e in reloads if not e.record.rolled_back]
            if module is not None:
                live = [e for e in live if module in e.record.modules]
            if not live:
                what = f" of module {module}" if module is not None else ""
                raise RollbackError(f"nothing to roll back{what}")
            entry = live[-1]
        if entry.undo is None:
            raise RollbackError(
                f"transaction {entry.record.id} is older than the history depth ({self.depth} per module) "
                "and was released"
            )
        touched = set(entry.record.modules)
        blocking = [
            e
            for e in reloads
            if e.record.id > entry.record.id and not e.record.rolled_back and touched & set(e.record.modules)
        ]
        if blocking:
            newest = blocking[-1].record
            shared = ", ".join(sorted(touched & set(newest.modules)))
            raise RollbackError(
                f"cannot roll back transaction {entry.record.id}: transaction {newest.id} changed {shared} after it; "
                f"roll back transaction {newest.id} first",
                blocking_transaction=newest.id,
            )
        return entry
