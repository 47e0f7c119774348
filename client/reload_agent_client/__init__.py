"""reload-agent's client: talk to a running agent from scripts and the command line.

Imports neither pygls nor lsprotocol, so ``reload-agent-cli`` starts fast.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
