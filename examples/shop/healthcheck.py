"""Health check for the shop: exit 0 when URL answers 200, else print why and exit 1.

    python -m shop.healthcheck http://127.0.0.1:8000/health

``reload-agent-cli reload --verify`` runs a command like this one after a reload and rolls the reload back when it
fails.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request

__all__ = ["check", "main"]


def check(url: str, timeout_s: float = 5.0) -> str | None:
    """None when ``url`` answers 200, else a one-line reason."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            response.read()
            return None
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}: {exc.read().decode(errors='replace').strip()}"
    except OSError as exc:
        return f"cannot reach {url}: {exc}"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m shop.healthcheck URL", file=sys.stderr)
        return 2
    problem = check(args[0])
    if problem is None:
        print(f"healthy: {args[0]}")
        return 0
    print(f"UNHEALTHY: {problem}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
