"""The reload engine: pure Python, no sockets, no pygls."""
