"""End-to-end checks of mpc-run against onnxruntime and against itself.

Tests are skipped when the build's bin/mpc-run (MPC_BUILD_DIR, default
build/ in the repository) does not exist. Helpers live in mpc_e2e.py.
"""
import os

import pytest

from mpc_e2e import MPC_RUN, MpcRun


@pytest.fixture
def mpc_run(tmp_path):
    if not MPC_RUN.exists():
        pytest.skip(f"{MPC_RUN} not built (set MPC_BUILD_DIR)")
    return MpcRun(tmp_path)


def pytest_addoption(parser):
    parser.addoption("--full", action="store_true", default=False,
                     help="also run the end-to-end tests marked `full` (the expensive "
                          "parametrizations; MPC_E2E_FULL=1 does the same)")


def pytest_configure(config):
    config.addinivalue_line("markers", "full: expensive; runs only with --full (or MPC_E2E_FULL=1)")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--full") or os.environ.get("MPC_E2E_FULL") == "1":
        return
    skip = pytest.mark.skip(reason="expensive: runs with --full (scripts/test.sh --full) or MPC_E2E_FULL=1")
    for item in items:
        if item.get_closest_marker("full"):
            item.add_marker(skip)
