"""The import hook, in a fresh interpreter: cheap, never recursive, records what the program imports."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import sys
    from reload_agent.engine import install_import_hook
    install_import_hook()
    install_import_hook()  # idempotent
    from reload_agent.engine import sources
    finders = [f for f in sys.meta_path if type(f).__name__ == "_CapturingFinder"]
    assert len(finders) == 1 and sys.meta_path[0] is finders[0]
    import json, tokenize, hashlib  # decoding/hashing needs these: their import must not recurse
    record = sources.record_for("json", sys.modules["json"])
    assert record is not None and record.trusted, record
    assert "def dumps" in record.text and record.digest
    assert sys.modules["json"].__spec__.loader.__class__.__name__ == "SourceFileLoader"  # loader untouched
    print("ok")
""")


def test_hook_in_a_fresh_interpreter():
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"
