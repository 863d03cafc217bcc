"""Python front end of mpc, the mixed-precision ONNX compiler.

This first version drives the command-line tools (mpc-opt, mpc-run); a native
binding over the same C++ library comes later. Tools are found in
$MPC_BUILD_DIR/bin, then on PATH.
"""
from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import tempfile
from typing import Mapping

import numpy as np

__all__ = ["MpcError", "find_tool", "import_onnx", "precision_report", "compile_mlir", "run"]

POLICIES = ("fp32", "fp16", "bf16")


class MpcError(RuntimeError):
    """A tool failed; the message carries its diagnostics."""


def find_tool(name: str) -> str:
    build = os.environ.get("MPC_BUILD_DIR")
    if build:
        candidate = pathlib.Path(build) / "bin" / name
        if candidate.exists():
            return str(candidate)
    found = shutil.which(name)
    if not found:
        raise MpcError(f"cannot find '{name}': build mpc (scripts/setup.sh) and set MPC_BUILD_DIR "
                       f"to the build directory, or put its bin/ on PATH")
    return found


def _call(args: list[str]) -> str:
    proc = subprocess.run(args, capture_output=True, text=True)
    if proc.returncode != 0:
        raise MpcError(f"{pathlib.Path(args[0]).name} failed (exit {proc.returncode}):\n{proc.stderr}")
    return proc.stdout


def _check_policy(precision: str) -> None:
    if precision not in POLICIES:
        raise ValueError(f"precision must be one of {', '.join(POLICIES)}, got '{precision}'")


def import_onnx(model: str | os.PathLike, batch: int | None = None) -> str:
    """Imports an ONNX model and returns the mpc-dialect MLIR text."""
    args = [find_tool("mpc-opt"), str(model)]
    if batch is not None:
        args.append(f"--onnx-batch={batch}")
    return _call(args)


def compile_mlir(model: str | os.PathLike, precision: str = "bf16", batch: int | None = None) -> str:
    """Imports, assigns precision, inserts and folds casts; returns the MLIR text."""
    _check_policy(precision)
    args = [find_tool("mpc-opt"), str(model), f"--mpc-assign-precision=policy={precision}",
            "--mpc-insert-casts", "--mpc-fold-casts"]
    if batch is not None:
        args.append(f"--onnx-batch={batch}")
    return _call(args)


def precision_report(model: str | os.PathLike, precision: str = "bf16", batch: int | None = None) -> str:
    """The text table of what precision assignment chose per op, and why."""
    _check_policy(precision)
    with tempfile.TemporaryDirectory() as tmp:
        report = pathlib.Path(tmp) / "report.txt"
        args = [find_tool("mpc-opt"), str(model), f"--mpc-assign-precision=policy={precision}",
                f"--mpc-precision-report=output={report}", "-o", os.devnull]
        if batch is not None:
            args.append(f"--onnx-batch={batch}")
        _call(args)
        return report.read_text()


def run(model: str | os.PathLike, inputs: Mapping[str, np.ndarray], precision: str = "fp32") -> dict[str, np.ndarray]:
    """Runs the model on the CPU with mpc-run; returns {output name: array}."""
    _check_policy(precision)
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = pathlib.Path(tmp)
        args = [find_tool("mpc-run"), str(model), "--precision", precision,
                "--output-dir", str(tmpdir / "out")]
        for name, value in inputs.items():
            path = tmpdir / f"input_{len(args)}.npy"
            np.save(path, np.ascontiguousarray(value))
            args += ["--input", f"{name}={path}"]
        _call(args)
        return {p.stem: np.load(p) for p in sorted((tmpdir / "out").glob("*.npy"))}
