"""One module per command group of the `movement-profiles` CLI."""
