"""A small tea shop HTTP service, the example app that ``examples/demo.py`` reloads live.

Run it directly (without the agent) with ``python -m shop.app`` from ``examples/``, or under the agent with
``python -m reload_agent -m shop.app``. Modules:

- ``shop.app``: start-up (builds the model, serves HTTP); the launched ``__main__``, so patch-only.
- ``shop.model``: the "expensive" recommendation model, built once (about a second).
- ``shop.stats``: the in-memory request counter; its reload hooks carry the counts across a full reload.
- ``shop.views``: the request handlers, the module the demo edits.
- ``shop.healthcheck``: a command-line health check (``reload-agent-cli reload --verify`` runs it).
"""
