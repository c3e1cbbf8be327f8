"""`make bench`: what the project promises about speed and memory, each measurement against its
target (docs/benchmarks.md)."""
