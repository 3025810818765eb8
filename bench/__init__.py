"""Benchmarks: each prints a ratio against a baseline measured in the same run (never absolute
seconds alone, which depend on the machine). Run them all with `make bench` or one with
`python -m bench NAME`; docs/benchmarks.md records the figures and the command."""
