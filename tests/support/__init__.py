"""Shared test helpers: real agent hosts (``agents``) and a raw JSON-RPC socket client (``rawclient``)."""
