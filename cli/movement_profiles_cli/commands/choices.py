"""The allowed values as Typer choices, so `--help` lists them and anything else exits 2.

`movement_profiles.options` imports only the standard library, so building the command tree (on
every invocation, `--help` included) does not load the SDK's HTTP stack.
"""

from movement_profiles.options import Goal, TrainingPreference

__all__ = ["Goal", "TrainingPreference"]
