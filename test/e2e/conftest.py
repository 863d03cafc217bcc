"""End-to-end checks of mpc-run against onnxruntime and against itself.

Tests are skipped when the build's bin/mpc-run (MPC_BUILD_DIR, default
build/ in the repository) does not exist. Helpers live in mpc_e2e.py.
"""
import pytest

from mpc_e2e import MPC_RUN, MpcRun


@pytest.fixture
def mpc_run(tmp_path):
    if not MPC_RUN.exists():
        pytest.skip(f"{MPC_RUN} not built (set MPC_BUILD_DIR)")
    return MpcRun(tmp_path)
