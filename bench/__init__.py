"""Benchmarks for voice-migration (issue 8): ``python -m bench --help``.

``python -m bench migration`` measures ``voice-migration migrate`` against the bare-SQL limit and a
row-by-row baseline on identical copies of generated data; ``python -m bench load`` measures the write
latency a v1 application sees while ``migrate`` runs. Results go to ``bench/results/`` (JSON and a
markdown table); docs/benchmarks.md explains them.
"""
