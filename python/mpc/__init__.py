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

__all__ = ["MpcError", "find_tool", "import_onnx", "precision_report", "compile_mlir", "run",
           "compile_trainer", "train"]

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


def _assign_flag(precision: str, strategy: str | None, policy_file: str | os.PathLike | None,
                 input_ranges: Mapping[str, tuple[float, float]] | None) -> str:
    """The --mpc-assign-precision flag with its options."""
    _check_policy(precision)
    options = [f"policy={precision}"]
    if strategy is not None:
        if strategy not in ("mincut", "greedy"):
            raise ValueError(f"strategy must be mincut or greedy, got '{strategy}'")
        options.append(f"strategy={strategy}")
    if policy_file is not None:
        options.append(f"policy-file={policy_file}")
    if input_ranges:
        ranges = ",".join(f"{name}:{lo!r}:{hi!r}" for name, (lo, hi) in input_ranges.items())
        options.append(f"input-ranges={ranges}")
    return "--mpc-assign-precision=" + " ".join(options)


def compile_mlir(model: str | os.PathLike, precision: str = "bf16", batch: int | None = None,
                 strategy: str | None = None, policy_file: str | os.PathLike | None = None,
                 input_ranges: Mapping[str, tuple[float, float]] | None = None) -> str:
    """Imports, assigns precision, inserts and folds casts; returns the MLIR text.

    `strategy` is mincut (default) or greedy; `policy_file` a JSON policy
    (docs/precision-policy.md); `input_ranges` maps graph inputs to (lo, hi)
    for the fp16 overflow analysis (docs/precision-range.md)."""
    args = [find_tool("mpc-opt"), str(model),
            _assign_flag(precision, strategy, policy_file, input_ranges),
            "--mpc-insert-casts", "--mpc-fold-casts"]
    if batch is not None:
        args.append(f"--onnx-batch={batch}")
    return _call(args)


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
        args = [find_tool("mpc-opt"), str(model),
                _assign_flag(precision, strategy, policy_file, input_ranges),
                f"--mpc-precision-report=output={report}", "-o", os.devnull]
        if batch is not None:
            args.append(f"--onnx-batch={batch}")
        _call(args)
        return report.read_text()


def run(model: str | os.PathLike, inputs: Mapping[str, np.ndarray], precision: str = "fp32",
        policy_file: str | os.PathLike | None = None) -> dict[str, np.ndarray]:
    """Runs the model on the CPU with mpc-run; returns {output name: array}."""
    _check_policy(precision)
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = pathlib.Path(tmp)
        args = [find_tool("mpc-run"), str(model), "--precision", precision,
                "--output-dir", str(tmpdir / "out")]
        if policy_file is not None:
            args += ["--policy-file", str(policy_file)]
        for name, value in inputs.items():
            path = tmpdir / f"input_{len(args)}.npy"
            np.save(path, np.ascontiguousarray(value))
            args += ["--input", f"{name}={path}"]
        _call(args)
        return {p.stem: np.load(p) for p in sorted((tmpdir / "out").glob("*.npy"))}


def compile_trainer(model: str | os.PathLike, output: str | os.PathLike, *, batch: int,
                    loss: str = "cross_entropy", label: str = "label", optimizer: str = "sgd",
                    precision: str = "fp32", lr: float | None = None, momentum: float | None = None,
                    weight_decay: float | None = None, betas: tuple[float, float] | None = None,
                    eps: float | None = None, loss_scale: str | float | None = None,
                    output_name: str | None = None) -> pathlib.Path:
    """Compiles MODEL into a standalone trainer executable with mpc-compile
    (docs/mpc-compile.md); unset options take mpc-compile's defaults."""
    _check_policy(precision)
    args = [find_tool("mpc-compile"), str(model), "--train", "--target", "cpu", "--batch", str(batch),
            "--loss", loss, "--label", label, "--optimizer", optimizer, "--precision", precision,
            "-o", str(output)]
    for flag, value in [("--lr", lr), ("--momentum", momentum), ("--weight-decay", weight_decay),
                        ("--eps", eps), ("--loss-scale", loss_scale), ("--output", output_name)]:
        if value is not None:
            args += [flag, str(value)]
    if betas is not None:
        args += ["--betas", f"{betas[0]},{betas[1]}"]
    _call(args)
    return pathlib.Path(output)


def train(trainer: str | os.PathLike, data: Mapping[str, np.ndarray | str | os.PathLike], *,
          steps: int | None = None, epochs: int | None = None, shuffle: bool = True, seed: int = 0,
          save: str | os.PathLike | None = None, checkpoint: str | os.PathLike | None = None,
          resume: str | os.PathLike | None = None) -> list[dict]:
    """Runs a trainer made by compile_trainer on DATA ({name: array or .npy
    path}); returns its per-step log (docs/trainer.md) as a list of dicts."""
    import json
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = pathlib.Path(tmp)
        args = [str(trainer), "--seed", str(seed), "--log", str(tmpdir / "log.jsonl")]
        for name, value in data.items():
            if isinstance(value, np.ndarray):
                path = tmpdir / f"data_{len(args)}.npy"
                np.save(path, np.ascontiguousarray(value))
                value = path
            args += ["--data", f"{name}={value}"]
        for flag, value in [("--steps", steps), ("--epochs", epochs), ("--save", save),
                            ("--checkpoint", checkpoint), ("--resume", resume)]:
            if value is not None:
                args += [flag, str(value)]
        if not shuffle:
            args.append("--no-shuffle")
        _call(args)
        return [json.loads(line) for line in (tmpdir / "log.jsonl").read_text().splitlines() if line]
