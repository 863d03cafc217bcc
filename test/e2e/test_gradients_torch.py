"""Each op's gradient in f32 and f64 against PyTorch's on the same inputs.

The rows are in gradient_cases.py; test/Inputs/gradients/refs.npz holds, per
row, PyTorch 1.13's f64 gradients (and running statistics) and how far its
f32 gradients are from them (made by make_gradient_refs.py; the suite needs
no PyTorch). Per row:
- mpc's f64 gradients equal PyTorch's f64 ones (same semantics: ties,
  kinks, the unbiased running variance) and, where the function is smooth
  there, central finite differences of mpc's own f64 forward;
- mpc's f32 gradients are no further from the f64 ones than a few times
  PyTorch's f32 distance (plus a few ulp): an accumulation that loses
  precision (a long f32 sum in one accumulator) fails here.
`pytest -s` prints each gradient's f32 distance next to PyTorch's.
"""
import os
import pathlib
import re
import subprocess

import numpy as np
import pytest

from gradient_cases import CASES, module, values
from mpc_e2e import BUILD_DIR, output_file_name

ROOT = pathlib.Path(__file__).resolve().parents[2]
REFS_PATH = ROOT / "test" / "Inputs" / "gradients" / "refs.npz"
TYPES = {"f32": np.float32, "f64": np.float64}


def run_case(tmp_path, case, element, params, labels, w, differentiate=True):
    """Loss, gradients (and buffers) of the case's @main under mpc-run --precision none."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    source = tmp_path / "forward.mlir"
    source.write_text(module(case, element))
    program = source
    if differentiate:
        program = tmp_path / "backward.mlir"
        proc = subprocess.run([str(BUILD_DIR / "bin" / "mpc-opt"), *case.passes, str(source), "-o", str(program)],
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
    elif case.buffers:
        program = tmp_path / "forward-bn.mlir"
        subprocess.run([str(BUILD_DIR / "bin" / "mpc-opt"), *case.passes[:-1], str(source), "-o", str(program)],
                       check=True)
    args = [str(BUILD_DIR / "bin" / "mpc-run"), str(program), "--precision", "none", "--entry", "main",
            "--output-dir", str(tmp_path / "out")]
    feed = {**{n: v.astype(TYPES[element]) for n, v in params.items()}, **labels, "w": w.astype(TYPES[case.out_element.replace("{T}", element)])}
    for name, value in feed.items():
        path = tmp_path / f"in_{output_file_name(name)}"
        np.save(path, value)
        args += ["--input", f"{name}={path}"]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    names = ["loss"] + (list(params) + list(case.buffers) if differentiate else [])
    return {n: np.load(tmp_path / "out" / output_file_name(n)).astype(np.float64) for n in names}


@pytest.fixture(scope="module")
def refs():
    if not (BUILD_DIR / "bin" / "mpc-run").exists():
        pytest.skip(f"mpc-run / mpc-opt not built in {BUILD_DIR}")
    return dict(np.load(REFS_PATH))


def relative(a, b):
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


# An f32 gradient may be this many times PyTorch's f32 distance from the f64
# one, or this many f32 ulps (2^-23 relative) where PyTorch's is smaller.
F32_FACTOR = 4
F32_FLOOR = 2.0 ** -23


def finite_difference_check(tmp_path, case, params, labels, w, grads):
    """(L(p + eps v) - L(p - eps v)) / 2 eps = <grad, v> along one random
    direction v of all parameters together, in f64. Where an f32 value sits
    inside (a cast, a loss op's f32 result): a wider step, a looser bound."""
    eps, rtol = (1e-3, 1e-3) if case.f32_inside else (1e-6, 1e-6)
    rng = np.random.default_rng(7)
    v = {n: rng.standard_normal(p.shape) for n, p in params.items()}
    losses = [run_case(tmp_path / f"fd{sign}", case, "f64", {n: p + sign * eps * v[n] for n, p in params.items()},
                       labels, w, differentiate=False)["loss"] for sign in (1, -1)]
    numeric = float(losses[0] - losses[1]) / (2 * eps)
    projected = sum(float(np.sum(grads[n] * v[n])) for n in params)
    assert abs(numeric - projected) <= rtol * max(abs(projected), 1e-3), (numeric, projected)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_gradient_matches_pytorch(tmp_path, refs, case):
    params, labels, w = values(case)
    if f"{case.name}/loss" not in refs:
        pytest.fail(f"no PyTorch reference for {case.name}: run test/Inputs/gradients/make_gradient_refs.py")
    f64 = run_case(tmp_path / "f64", case, "f64", params, labels, w)
    f32 = run_case(tmp_path / "f32", case, "f32", params, labels, w)
    for name in list(params) + list(case.buffers):
        torch64 = refs[f"{case.name}/{name}"].astype(np.float64)
        assert f64[name].shape == torch64.shape
        assert relative(f64[name], torch64) <= 1e-5, f"{name}: f64 gradient differs from PyTorch's"
        torch_error = float(refs[f"{case.name}/{name}/f32_error"])
        bound = F32_FACTOR * max(torch_error, F32_FLOOR)
        error = relative(f32[name], f64[name])
        print(f"{case.name} {name}: f32 vs f64 {error:.1e} (PyTorch {torch_error:.1e})")
        assert error <= bound, f"{name}: f32 error {error:.2e}, PyTorch's f32 x {F32_FACTOR}: {bound:.2e}"
    if not case.kink:
        finite_difference_check(tmp_path, case, params, labels, w, f64)


def ops_with_gradient_rules():
    """The mpc ops lib/Dialect/GradientRules*.cpp attach a rule to, as mnemonics."""
    names = set()
    for path in (ROOT / "lib" / "Dialect").glob("GradientRules*.cpp"):
        text = path.read_text()
        for group in re.findall(r"attach<([^>]*)>\(", text):
            names.update(re.findall(r"(\w+)Op\b", group))
        names.update(re.findall(r"(\w+)Op::attachInterface<", text))
    return {re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower() for name in names}


def test_every_gradient_rule_has_a_row():
    covered = {op for case in CASES for op in case.ops}
    rules = ops_with_gradient_rules()
    assert len(rules) > 30, rules
    missing = sorted(rules - covered)
    assert not missing, f"ops with a gradient rule but no row in gradient_cases.py: {missing}"
