"""What the tests and the benchmarks share: a private beanstalkd, real worker pools, hand-built queue states,
and the small labelled image datasets of the example (``example_data``).

Not part of the distribution; ``tests/``, ``bench/`` and ``scripts/example.sh`` import it from the
repository root.
"""
