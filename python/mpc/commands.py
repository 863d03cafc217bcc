"""Command lines of the mpc tools, spelt in one place.

Each builder returns the argv of one tool as a list of strings, ready for
subprocess; none runs anything or looks for the tool: the first argument is
the executable (the package finds it with mpc.find_tool, the tests and the
benchmarks take it from their build directory). Options left at None are not
passed, so the tool's own defaults apply; `extra` is appended as given.

Used by the package (mpc/__init__.py), the end-to-end tests (test/e2e), the
conformance sweep (test/conformance) and the benchmarks (bench/).
"""
from __future__ import annotations

import os
from typing import Iterable, Mapping, Optional, Sequence, Tuple, Union

Path = Union[str, "os.PathLike[str]"]
Ranges = Mapping[str, Tuple[float, float]]

POLICIES = ("fp32", "fp16", "bf16")
STRATEGIES = ("mincut", "greedy")


def _flags(pairs: Iterable[Tuple[str, object]]) -> list[str]:
    """FLAG VALUE for every pair whose value is not None."""
    out: list[str] = []
    for flag, value in pairs:
        if value is not None:
            out += [flag, str(value)]
    return out


def input_ranges(ranges: Ranges) -> str:
    """NAME:LO:HI,... as --input-ranges and the input-ranges= pass option take it."""
    return ",".join(f"{name}:{lo!r}:{hi!r}" for name, (lo, hi) in ranges.items())


def mpc_run_output_file(name: str) -> str:
    """The file mpc-run writes for graph output NAME in --output-dir (it keeps
    [A-Za-z0-9_.-] and replaces any other character with '_')."""
    return "".join(c if c.isalnum() or c in "_-." else "_" for c in name) + ".npy"


def assign_precision(precision: str, strategy: Optional[str] = None, policy_file: Optional[Path] = None,
                     ranges: Optional[Ranges] = None, calibration_data: Optional[Path] = None) -> str:
    """mpc-opt's --mpc-assign-precision="policy=P ..." flag (docs/precision-policy.md)."""
    if precision not in POLICIES:
        raise ValueError(f"precision must be one of {', '.join(POLICIES)}, got '{precision}'")
    if strategy is not None and strategy not in STRATEGIES:
        raise ValueError(f"strategy must be mincut or greedy, got '{strategy}'")
    options = [f"policy={precision}"]
    if strategy is not None:
        options.append(f"strategy={strategy}")
    if policy_file is not None:
        options.append(f"policy-file={policy_file}")
    if ranges:
        options.append(f"input-ranges={input_ranges(ranges)}")
    if calibration_data is not None:
        options.append(f"calibration-data={calibration_data}")
    return "--mpc-assign-precision=" + " ".join(options)


def mpc_opt(tool: Path, model: Path, passes: Sequence[str] = (), *, batch: Optional[int] = None,
            output: Optional[Path] = None, extra: Sequence[str] = ()) -> list[str]:
    """mpc-opt MODEL PASSES... [--onnx-batch=N] [-o OUTPUT]: `passes` are flags
    such as assign_precision(...) or "--mpc-insert-casts"."""
    args = [str(tool), str(model), *passes]
    if batch is not None:
        args.append(f"--onnx-batch={batch}")
    if output is not None:
        args += ["-o", str(output)]
    return args + list(extra)


def mpc_run(tool: Path, model: Path, inputs: Mapping[str, Path], output_dir: Path, *,
            precision: Optional[str] = None, policy_file: Optional[Path] = None,
            ranges: Optional[Ranges] = None, calibration_data: Optional[Path] = None,
            threads: Optional[int] = None, iterations: Optional[int] = None,
            mcpu: Optional[str] = None, native_dot_products: bool = False,
            extra: Sequence[str] = ()) -> list[str]:
    """mpc-run MODEL --input NAME=FILE.npy ... --output-dir DIR (docs: README.md,
    "Tools"); `inputs` maps graph inputs to .npy files, `precision` is
    fp32/fp16/bf16 or none, `mcpu` the CPU to compile for (default native),
    `native_dot_products` adds --native-dot-products (bf16 contractions on
    AVX512-BF16 dot products where the CPU has them; not bit-exact)."""
    args = [str(tool), str(model)]
    args += _flags([("--precision", precision), ("--policy-file", policy_file),
                    ("--input-ranges", input_ranges(ranges) if ranges else None),
                    ("--calibration-data", calibration_data), ("--threads", threads),
                    ("--iterations", iterations), ("--mcpu", mcpu), ("--output-dir", output_dir)])
    if native_dot_products:
        args.append("--native-dot-products")
    for name, path in inputs.items():
        args += ["--input", f"{name}={path}"]
    return args + list(extra)


def mpc_compile(tool: Path, model: Path, output: Path, *, batch: Optional[int] = None,
                loss: Optional[str] = None, label: Optional[str] = None, optimizer: Optional[str] = None,
                precision: Optional[str] = None, policy_file: Optional[Path] = None,
                lr: Optional[float] = None, momentum: Optional[float] = None, nesterov: bool = False,
                weight_decay: Optional[float] = None, betas: Optional[Tuple[float, float]] = None,
                eps: Optional[float] = None, loss_scale: Union[str, float, None] = None,
                loss_output: Optional[str] = None, emit: Optional[str] = None,
                input_values: Mapping[str, Path] = {}, extra: Sequence[str] = ()) -> list[str]:
    """mpc-compile MODEL --train --target cpu -o OUTPUT ... (docs/mpc-compile.md);
    `input_values` maps graph inputs whose values decide shapes to .npy files."""
    args = [str(tool), str(model), "--train", "--target", "cpu", "-o", str(output)]
    args += _flags([("--batch", batch), ("--loss", loss), ("--label", label), ("--optimizer", optimizer),
                    ("--precision", precision), ("--policy-file", policy_file), ("--lr", lr),
                    ("--momentum", momentum), ("--weight-decay", weight_decay),
                    ("--betas", f"{betas[0]},{betas[1]}" if betas is not None else None), ("--eps", eps),
                    ("--loss-scale", loss_scale), ("--output", loss_output)])
    if nesterov:
        args.append("--nesterov")
    if emit is not None:
        args.append(f"--emit={emit}")
    return args + _input_values(input_values) + list(extra)


def mpc_compile_infer(tool: Path, model: Path, output: Path, *, batch: Optional[int] = None,
                      precision: Optional[str] = None, policy_file: Optional[Path] = None,
                      weights: Optional[str] = None, emit: Optional[str] = None,
                      input_values: Mapping[str, Path] = {}, extra: Sequence[str] = ()) -> list[str]:
    """mpc-compile MODEL --infer --target cpu -o OUTPUT ... (docs/mpc-compile.md);
    `weights` is embedded or external, `input_values` as for mpc_compile."""
    args = [str(tool), str(model), "--infer", "--target", "cpu", "-o", str(output)]
    args += _flags([("--batch", batch), ("--precision", precision), ("--policy-file", policy_file),
                    ("--weights", weights)])
    if emit is not None:
        args.append(f"--emit={emit}")
    return args + _input_values(input_values) + list(extra)


def _input_values(values: Mapping[str, Path]) -> list[str]:
    return [arg for name, path in values.items() for arg in ("--onnx-input-value", f"{name}={path}")]


def runner(tool: Path, inputs: Mapping[str, Path], *, output_dir: Optional[Path] = None,
           weights: Optional[Path] = None, iterations: Optional[int] = None, warmup: Optional[int] = None,
           extra: Sequence[str] = ()) -> list[str]:
    """RUNNER --input NAME=FILE.npy ... for an executable made by mpc-compile
    --infer (docs/mpc-compile.md, "The runner"); it writes
    OUTPUT_DIR/mpc_run_output_file(name) per output."""
    args = [str(tool)]
    for name, path in inputs.items():
        args += ["--input", f"{name}={path}"]
    args += _flags([("--output-dir", output_dir), ("--weights", weights), ("--iterations", iterations),
                    ("--warmup", warmup)])
    return args + list(extra)


def trainer(tool: Path, data: Mapping[str, Path], *, steps: Optional[int] = None,
            epochs: Optional[int] = None, shuffle: bool = True, seed: Optional[int] = None,
            log: Optional[Path] = None, save: Optional[Path] = None, checkpoint: Optional[Path] = None,
            resume: Optional[Path] = None, extra: Sequence[str] = ()) -> list[str]:
    """TRAINER --data NAME=FILE.npy ... for an executable made by mpc-compile
    (docs/trainer.md)."""
    args = [str(tool)]
    for name, path in data.items():
        args += ["--data", f"{name}={path}"]
    args += _flags([("--seed", seed), ("--log", log), ("--steps", steps), ("--epochs", epochs),
                    ("--save", save), ("--checkpoint", checkpoint), ("--resume", resume)])
    if not shuffle:
        args.append("--no-shuffle")
    return args + list(extra)
