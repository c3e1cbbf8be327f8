"""Helpers that tests and `make bench` share: a throwaway stack, auth users, their tokens, free
ports and a clean environment for the CLI. Each exists once, here."""
