"""The one error the local stack raises: its message is shown to the user as a single line."""


class StackError(Exception):
    """The local stack cannot do what was asked (a port is taken, a binary is missing, ...)."""
