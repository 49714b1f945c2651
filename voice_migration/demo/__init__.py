"""The demo and the synthetic v1 data it (and the tests and benchmarks) run on."""
