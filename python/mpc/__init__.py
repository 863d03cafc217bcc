"""Python front end of mpc, the mixed-precision ONNX compiler.

This first version drives the command-line tools (mpc-opt, mpc-run,
mpc-compile), whose command lines mpc.commands builds; a native binding over
the same C++ library comes later. Tools are found in $MPC_BUILD_DIR/bin, then
on PATH.
"""
from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import tempfile
from typing import Mapping

import numpy as np

from . import commands
from .commands import POLICIES

__all__ = ["MpcError", "find_tool", "import_onnx", "precision_report", "compile_mlir", "run",
           "compile_trainer", "train", "commands"]


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


def _npy_files(values: Mapping[str, np.ndarray | str | os.PathLike], tmpdir: pathlib.Path,
               prefix: str) -> dict[str, pathlib.Path]:
    """{name: path}: arrays written as .npy files under TMPDIR, paths kept."""
    files = {}
    for name, value in values.items():
        if isinstance(value, np.ndarray):
            path = tmpdir / f"{prefix}_{len(files)}.npy"
            np.save(path, np.ascontiguousarray(value))
            value = path
        files[name] = pathlib.Path(value)
    return files


def _executable(path: str | os.PathLike) -> pathlib.Path:
    """An absolute path: a bare relative name ("trainer") would otherwise be
    looked up on PATH, and may find a system tool of that name."""
    return pathlib.Path(path).absolute()


def _check_policy(precision: str) -> None:
    if precision not in POLICIES:
        raise ValueError(f"precision must be one of {', '.join(POLICIES)}, got '{precision}'")


def import_onnx(model: str | os.PathLike, batch: int | None = None) -> str:
    """Imports an ONNX model and returns the mpc-dialect MLIR text."""
    return _call(commands.mpc_opt(find_tool("mpc-opt"), model, batch=batch))


def compile_mlir(model: str | os.PathLike, precision: str = "bf16", batch: int | None = None,
                 strategy: str | None = None, policy_file: str | os.PathLike | None = None,
                 input_ranges: Mapping[str, tuple[float, float]] | None = None) -> str:
    """Imports, assigns precision, inserts and folds casts; returns the MLIR text.

    `strategy` is mincut (default) or greedy; `policy_file` a JSON policy
    (docs/precision-policy.md); `input_ranges` maps graph inputs to (lo, hi)
    for the fp16 overflow analysis (docs/precision-range.md)."""
    passes = [commands.assign_precision(precision, strategy, policy_file, input_ranges),
              "--mpc-insert-casts", "--mpc-fold-casts"]
    return _call(commands.mpc_opt(find_tool("mpc-opt"), model, passes, batch=batch))


def precision_report(model: str | os.PathLike, precision: str = "bf16", batch: int | None = None,
                     strategy: str | None = None, policy_file: str | os.PathLike | None = None,
                     input_ranges: Mapping[str, tuple[float, float]] | None = None,
                     format: str = "txt") -> str:
    """What precision assignment chose per op, and why: the text table, or the
    report as json, dot or html (docs/precision-report.md)."""
    if format not in ("txt", "json", "dot", "html"):
        raise ValueError(f"format must be txt, json, dot or html, got '{format}'")
    with tempfile.TemporaryDirectory() as tmp:
        report = pathlib.Path(tmp) / f"report.{format}"
        passes = [commands.assign_precision(precision, strategy, policy_file, input_ranges),
                  f"--mpc-precision-report=output={report}"]
        _call(commands.mpc_opt(find_tool("mpc-opt"), model, passes, batch=batch, output=os.devnull))
        return report.read_text()


def run(model: str | os.PathLike, inputs: Mapping[str, np.ndarray], precision: str = "fp32",
        policy_file: str | os.PathLike | None = None, mcpu: str | None = None,
        native_dot_products: bool = False) -> dict[str, np.ndarray]:
    """Runs the model on the CPU with mpc-run; returns {output name: array}.
    `mcpu`: the CPU to compile for (mpc-run --mcpu; default native).
    `native_dot_products`: bf16 contractions on AVX512-BF16 dot products where
    that CPU has them (mpc-run --native-dot-products; not bit-exact,
    docs/numerics.md)."""
    _check_policy(precision)
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = pathlib.Path(tmp)
        files = _npy_files(inputs, tmpdir, "input")
        _call(commands.mpc_run(find_tool("mpc-run"), model, files, tmpdir / "out", precision=precision,
                               policy_file=policy_file, mcpu=mcpu,
                               native_dot_products=native_dot_products))
        return {p.stem: np.load(p) for p in sorted((tmpdir / "out").glob("*.npy"))}


def compile_trainer(model: str | os.PathLike, output: str | os.PathLike, *, batch: int,
                    loss: str = "cross_entropy", label: str = "label", optimizer: str = "sgd",
                    precision: str = "fp32", lr: float | None = None, momentum: float | None = None,
                    weight_decay: float | None = None, betas: tuple[float, float] | None = None,
                    eps: float | None = None, loss_scale: str | float | None = None,
                    output_name: str | None = None,
                    input_values: Mapping[str, np.ndarray | str | os.PathLike] = {}) -> pathlib.Path:
    """Compiles MODEL into a standalone trainer executable with mpc-compile
    (docs/mpc-compile.md); unset options take mpc-compile's defaults.
    `input_values` ({name: array or .npy path}) gives the values of graph
    inputs that decide shapes (a Reshape shape, a Resize scale), which the
    trainer is then specialized on."""
    _check_policy(precision)
    with tempfile.TemporaryDirectory() as tmp:
        values = _npy_files(input_values, pathlib.Path(tmp), "value")
        _call(commands.mpc_compile(find_tool("mpc-compile"), model, output, batch=batch, loss=loss,
                                   label=label, optimizer=optimizer, precision=precision, lr=lr,
                                   momentum=momentum, weight_decay=weight_decay, betas=betas, eps=eps,
                                   loss_scale=loss_scale, loss_output=output_name, input_values=values))
    return pathlib.Path(output)


def compile_runner(model: str | os.PathLike, output: str | os.PathLike, *, batch: int | None = None,
                   precision: str = "fp32", weights: str = "embedded",
                   input_values: Mapping[str, np.ndarray | str | os.PathLike] = {}) -> pathlib.Path:
    """Compiles MODEL into a standalone inference executable with mpc-compile
    --infer (docs/mpc-compile.md); `weights="external"` leaves the weights out
    (pass them to `infer`); `input_values` as for compile_trainer."""
    _check_policy(precision)
    with tempfile.TemporaryDirectory() as tmp:
        values = _npy_files(input_values, pathlib.Path(tmp), "value")
        _call(commands.mpc_compile_infer(find_tool("mpc-compile"), model, output, batch=batch,
                                         precision=precision, weights=weights, input_values=values))
    return pathlib.Path(output)


def infer(runner: str | os.PathLike, inputs: Mapping[str, np.ndarray | str | os.PathLike], *,
          weights: str | os.PathLike | None = None) -> dict[str, np.ndarray]:
    """Runs a runner made by compile_runner on INPUTS ({name: array or .npy
    path}); returns {output file stem: array}."""
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = pathlib.Path(tmp)
        files = _npy_files(inputs, tmpdir, "input")
        _call(commands.runner(_executable(runner), files, output_dir=tmpdir / "out", weights=weights))
        return {p.stem: np.load(p) for p in sorted((tmpdir / "out").glob("*.npy"))}


def train(trainer: str | os.PathLike, data: Mapping[str, np.ndarray | str | os.PathLike], *,
          steps: int | None = None, epochs: int | None = None, shuffle: bool = True, seed: int = 0,
          save: str | os.PathLike | None = None, checkpoint: str | os.PathLike | None = None,
          resume: str | os.PathLike | None = None) -> list[dict]:
    """Runs a trainer made by compile_trainer on DATA ({name: array or .npy
    path}); returns its per-step log (docs/trainer.md) as a list of dicts."""
    import json
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = pathlib.Path(tmp)
        files = _npy_files(data, tmpdir, "data")
        _call(commands.trainer(_executable(trainer), files, steps=steps, epochs=epochs, shuffle=shuffle, seed=seed,
                               log=tmpdir / "log.jsonl", save=save, checkpoint=checkpoint, resume=resume))
        return [json.loads(line) for line in (tmpdir / "log.jsonl").read_text().splitlines() if line]
