"""Free ports, for servers a test or the bench starts next to a stack."""

from movement_profiles_cli.stack.processes import free_port

__all__ = ["free_port"]
