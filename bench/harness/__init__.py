"""The pieces of `make bench`: the throwaway stack and its users, the load generators (wrk,
pgbench), timing statistics and the report. bench/run_bench.py puts them together."""
