"""The long protocol fuzz run behind ``make fuzz``.

Runs the hostile-frame strategies of ``frames.py`` against one live agent for a
fixed wall-clock time with fresh random seeds, checking every case as
``test_fuzz_protocol.py`` does, but it does not stop at the first failure: each
distinct failure (by exception and message, frame kind and method) is recorded
with its first example, and the run goes on. It stops early only if the agent
dies or hangs (the monitor connection stops answering). Prints a JSON summary:
frames sent per kind, well-framed requests answered, distinct findings, and the
host's fds/threads/RSS before and after.

    python tests/reliability/fuzz_long.py --minutes 8 [--output summary.json]
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import msgpack  # noqa: E402
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.reliability.frames import KNOWN_METHODS, Case, cases  # noqa: E402
from tests.reliability.fuzzrun import FuzzTarget, fuzz_target  # noqa: E402


class _TimeUp(Exception):
    pass


def _method_of(case: Case) -> str:
    """The method of the case's request, or ``<other>`` for a made-up one (keeps findings grouped)."""
    body = case.data.partition(b"\r\n\r\n")[2]
    try:
        message = msgpack.unpackb(body, raw=False) if case.kind.startswith("msgpack") else json.loads(body)
    except Exception:
        return "?"
    method = message.get("method") if isinstance(message, dict) else None
    return method if method in KNOWN_METHODS else "<other>"


def _signature(exc: Exception, case: Case) -> str:
    first_line = (str(exc).splitlines() or [""])[0][:160]
    if case.answer_id is not None:
        first_line = first_line.replace(repr(case.answer_id), "<id>")
        if isinstance(case.answer_id, str) and any(0xD800 <= ord(c) <= 0xDFFF for c in case.answer_id):
            first_line += " (id holds a lone surrogate)"
    return f"{type(exc).__name__}: {first_line} | kind={case.kind} method={_method_of(case)}"


def fuzz(target: FuzzTarget, seconds: float) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    findings: dict[str, dict[str, Any]] = {}
    counts: collections.Counter[str] = collections.Counter()
    fatal: list[str] = []

    @settings(max_examples=10**9, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=cases, authenticate=st.booleans())
    def one(case: Case, authenticate: bool) -> None:
        if time.monotonic() > deadline or fatal:
            raise _TimeUp
        try:
            target.exercise(case, authenticate=authenticate)
        except Exception as exc:  # a finding: record it and go on
            key = _signature(exc, case)
            entry = findings.setdefault(key, {"count": 0, "firstCase": counts["cases"], "examples": []})
            entry["count"] += 1
            entry["lastCase"] = counts["cases"]
            if len(entry["examples"]) < 3:
                entry["examples"].append({"frame": repr(case.data[:400]), "authenticated": authenticate})
            counts["failed"] += 1
        try:
            target.check_alive()
        except Exception as exc:
            fatal.append(f"agent stopped answering: {type(exc).__name__}: {exc}")
            raise _TimeUp from exc
        counts["cases"] += 1

    started = time.monotonic()
    try:
        one()
    except _TimeUp:
        pass
    return {
        "seconds": round(time.monotonic() - started, 1),
        "cases": counts["cases"],
        "framesSent": dict(target.sent),
        "framesSentTotal": sum(target.sent.values()),
        "wellFramedRequestsAnswered": target.answered,
        "casesWithFindings": counts["failed"],
        "findings": findings,
        "fatal": fatal,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=8.0)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="reload-agent-fuzz-") as tmp:
        with fuzz_target(Path(tmp)) as target:
            summary = fuzz(target, args.minutes * 60)
            try:
                summary["health"] = target.check_health(rss_growth_kb=256 * 1024)
                summary["healthy"] = True
            except Exception as exc:
                summary["healthy"] = False
                summary["health"] = f"{type(exc).__name__}: {exc}"
    text = json.dumps(summary, indent=2)
    print(text)
    if args.output:
        args.output.write_text(text + "\n")
    return 0 if summary["healthy"] and not summary["fatal"] and not summary["findings"] else 1


if __name__ == "__main__":
    sys.exit(main())
