"""Reliability and security tests (issue 8): faults, fuzzing, load, hostile clients, auth."""
