"""Kept for the suites that import it from here: the helper lives in tests/support/stack.py."""

from tests.support.stack import throwaway_stack

__all__ = ["throwaway_stack"]
