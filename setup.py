"""The one compiled part: Eigen 3.1.2's eigenvalue iteration (wndchrm/features/eigen/), which wndchrm's
Haralick [16] and [17] read in Eigen's order. Everything else is in pyproject.toml.

No fused multiply-adds (-ffp-contract=off): they round once where Eigen rounds twice.
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("wndchrm.features.eigen._schur", sources=["wndchrm/features/eigen/_schur.c"],
                             extra_compile_args=["-O2", "-ffp-contract=off"])])
