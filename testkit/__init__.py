"""What the tests and the benchmarks share: a private beanstalkd, real worker pools, hand-built queue states.

Not part of the distribution; both ``tests/`` and ``bench/`` import it from the repository root.
"""
