"""The one compiled part: wndchrm 1.60's arithmetic where its values hang on the last bits (Eigen's
eigenvalue order for Haralick [16] and [17], the Q matrix's sums, the Chebyshev transform), in
wndchrm/features/exact/. Everything else is in pyproject.toml.

No fused multiply-adds (-ffp-contract=off): they round once where wndchrm rounds twice.
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("wndchrm.features.exact._exact", sources=["wndchrm/features/exact/_exact.c"],
                             extra_compile_args=["-O2", "-ffp-contract=off"])])
