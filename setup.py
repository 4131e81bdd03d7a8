"""Only the C extension lives here; everything else about the package is in pyproject.toml.

The simulator's hottest kernels in C (``src/brain_agent/simulation/local/kernels/_ckernels.c``: the row
rank, the book pass, moving windows, the linear decay, fields, arithmetic; plain C loaded with ctypes,
no Python API).
Optional: without a C compiler the install still succeeds and the numpy versions of the same kernels
run.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "brain_agent.simulation.local.kernels._ckernels",
            sources=["src/brain_agent/simulation/local/kernels/_ckernels.c"],
            # no fused multiply-add: the same sums on every CPU; sqrt need not set errno (which
            # would keep the moving deviation's loop from vectorizing)
            extra_compile_args=["-O3", "-ffp-contract=off", "-fno-math-errno"],
            optional=True,
        )
    ]
)
