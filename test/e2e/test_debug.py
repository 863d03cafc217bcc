"""mpc-debug end to end: `compare` names the op where fp16 first loses the
tolerance, and `search` finds a policy that meets it while keeping the matmul
in fp16 (checked independently with mpc-run --policy-file).

The model: y = ((x @ I + 2048) - 2048) @ w; the first matmul (an exact
identity) puts the shift between two fp16 matmuls, where the all-fp16
assignment runs it in fp16 (next to f32 inputs the min-cut would keep it f32
to save casts). In f32 the shift is exact (x holds
multiples of 1/64 below 4 in magnitude: 2048 + x needs 17 significant bits),
in fp16 2048 + x rounds to a multiple of 2, so `unshift` returns x with its
low bits gone (errors up to 1 on values below 4). The matmul's operands are
exact in fp16 (x's values and w's multiples of 1/8 need at most 9 bits) and it
accumulates in f32, so with the shift in f32 the only error left is the
matmul result's rounding to fp16: 2^-11 relative.
"""
import json
import subprocess

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from mpc_e2e import BUILD_DIR, MPC_RUN, ROOT, max_relative_error

MPC_DEBUG = BUILD_DIR / "bin" / "mpc-debug"
TOLERANCE = 1e-2


def shift_model():
    rng = np.random.default_rng(7)
    w = (rng.integers(-8, 9, size=(16, 8)) / 8).astype(np.float32)
    nodes = [
        helper.make_node("Constant", [], ["big"], name="big",
                         value=numpy_helper.from_array(np.full((1,), 2048.0, np.float32))),
        helper.make_node("MatMul", ["x", "eye"], ["embedded"], name="embed"),
        helper.make_node("Add", ["embedded", "big"], ["shifted"], name="shift"),
        helper.make_node("Sub", ["shifted", "big"], ["unshifted"], name="unshift"),
        helper.make_node("MatMul", ["unshifted", "w"], ["y"], name="mm"),
    ]
    graph = helper.make_graph(
        nodes, "shift",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 8])],
        [numpy_helper.from_array(np.eye(16, dtype=np.float32), "eye"), numpy_helper.from_array(w, "w")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.fixture
def files(tmp_path):
    if not MPC_DEBUG.exists():
        pytest.skip(f"{MPC_DEBUG} not built (set MPC_BUILD_DIR)")
    rng = np.random.default_rng(3)
    x = (rng.integers(-255, 256, size=(4, 16)) / 64).astype(np.float32)
    model = tmp_path / "shift.onnx"
    onnx.save(shift_model(), str(model))
    x_path = tmp_path / "x.npy"
    np.save(x_path, x)
    return tmp_path, model, x_path, x


def debug(*args):
    proc = subprocess.run([str(MPC_DEBUG), *map(str, args)], capture_output=True, text=True, timeout=600)
    assert "Stack dump" not in proc.stderr, proc.stderr
    return proc


def run_with_policy(tmp_path, model, x_path, policy, name):
    out = tmp_path / name
    args = [str(MPC_RUN), str(model), "--precision", "fp16", "--input", f"x={x_path}",
            "--output-dir", str(out)]
    if policy is not None:
        args += ["--policy-file", str(policy)]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return np.load(out / "y.npy")


def test_compare_names_the_first_op_over_tolerance(files):
    tmp_path, model, x_path, _ = files
    report = tmp_path / "compare.json"
    proc = debug("compare", model, "--precision", "fp16", "--input", f"x={x_path}",
                 "--tolerance", TOLERANCE, "--json", report)
    assert proc.returncode == 0, proc.stderr
    for column in ("node", "op", "precision", "max_abs", "max_rel", "max_ulp", "inf/nan"):
        assert column in proc.stdout, proc.stdout
    assert "first op over tolerance: unshift (mpc.sub, f16" in proc.stdout, proc.stdout
    data = json.loads(report.read_text())
    assert data["first_over_tolerance"] == "unshift"
    ops = {op["node"]: op for op in data["ops"]}
    assert list(ops) == ["embed", "shift", "unshift", "mm"]
    assert ops["embed"]["max_abs_error"] == 0
    assert ops["shift"]["precision"] == "f16" and not ops["shift"]["over_tolerance"]
    # 2048 + x rounds to a multiple of 2 in fp16: at most 1 off, and that is
    # half a unit in the last place of fp16 at 2048.
    assert 0.5 <= ops["shift"]["max_abs_error"] <= 1.0
    assert ops["shift"]["max_ulp_error"] <= 0.5
    assert ops["unshift"]["max_abs_error"] >= 0.5
    assert data["outputs"][0]["name"] == "y"
    assert data["output_max_rel_error"] > TOLERANCE


def test_search_finds_a_policy_that_keeps_the_matmul_low(files):
    tmp_path, model, x_path, x = files
    policy = tmp_path / "policy.json"
    proc = debug("search", model, "--precision", "fp16", "--tolerance", TOLERANCE,
                 "--input", f"x={x_path}", "-o", policy)
    assert proc.returncode == 0, proc.stderr
    assert "ops forced to f32: 2" in proc.stdout, proc.stdout
    assert "matmul/conv FLOPs still fp16: 100.0%" in proc.stdout, proc.stdout
    assert "candidates evaluated:" in proc.stdout
    rules = json.loads(policy.read_text())["rules"]
    assert sorted(rule["match"] for rule in rules) == ["shift", "unshift"]

    # Checked independently of mpc-debug: mpc-run with and without the policy.
    w = numpy_helper.to_array(shift_model().graph.initializer[1]).astype(np.float64)
    expected = x.astype(np.float64) @ w
    all_low = run_with_policy(tmp_path, model, x_path, None, "low")
    found = run_with_policy(tmp_path, model, x_path, policy, "found")
    assert max_relative_error(all_low, expected) > TOLERANCE
    assert max_relative_error(found, expected) <= TOLERANCE

    # And per mpc-debug compare with the policy: the matmul still runs in fp16.
    report = tmp_path / "with-policy.json"
    proc = debug("compare", model, "--precision", "fp16", "--policy-file", policy,
                 "--input", f"x={x_path}", "--tolerance", TOLERANCE, "--json", report)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(report.read_text())
    ops = {op["node"]: op for op in data["ops"]}
    assert ops["mm"]["precision"] == "f16" and ops["embed"]["precision"] == "f16"
    assert ops["shift"]["precision"] == "f32" and ops["unshift"]["precision"] == "f32"
    assert data["first_over_tolerance"] is None


def test_search_when_all_low_already_passes(files):
    tmp_path, model, x_path, _ = files
    policy = tmp_path / "loose.json"
    proc = debug("search", model, "--precision", "fp16", "--tolerance", 1e6,
                 "--input", f"x={x_path}", "-o", policy)
    assert proc.returncode == 0, proc.stderr
    assert "already meets the tolerance" in proc.stdout
    assert json.loads(policy.read_text())["rules"] == []


def test_search_forces_only_nodes_a_rule_can_name(files):
    # The last matmul keeps its name only as a location: the precision report
    # still calls it "mm", but no policy rule matches it (rules match mpc.node).
    # Forcing "mm" made mpc-assign-precision reject the search's own candidate
    # ("no node name matches 'mm'"); the search now leaves it out.
    tmp_path, model, x_path, _ = files
    imported = subprocess.run([str(BUILD_DIR / "bin" / "mpc-translate"), "--import-onnx",
                               str(model), "--onnx-batch", "4"],
                              capture_output=True, text=True, check=True).stdout
    lines = []
    for line in imported.replace(' {mpc.node = "mm"}', "").splitlines():
        lines.append(line + ' loc("mm")' if "= mpc.matmul %4" in line else line)
    unnamed = tmp_path / "unnamed.mlir"
    unnamed.write_text("\n".join(lines) + "\n")
    assert 'loc("mm")' in unnamed.read_text()
    policy = tmp_path / "unnamed.json"
    proc = debug("search", unnamed, "--precision", "fp16", "--tolerance", TOLERANCE,
                 "--input", f"x={x_path}", "-o", policy)
    assert proc.returncode == 0, proc.stderr
    rules = json.loads(policy.read_text())["rules"]
    assert sorted(rule["match"] for rule in rules) == ["shift", "unshift"]


def test_search_takes_the_input_ranges_mpc_run_takes(files):
    # Declared as reaching 1e6, x overflows fp16 (largest finite 65504): range
    # analysis keeps the ops it reaches in f32, the shift among them, so the
    # all-fp16 program already meets the tolerance. Without the forwarding the
    # search would force shift and unshift (the test above).
    tmp_path, model, x_path, _ = files
    policy = tmp_path / "ranged.json"
    proc = debug("search", model, "--precision", "fp16", "--tolerance", TOLERANCE,
                 "--input", f"x={x_path}", "--input-ranges", "x:-1e6:1e6", "-o", policy)
    assert proc.returncode == 0, proc.stderr
    assert "already meets the tolerance" in proc.stdout, proc.stdout
    assert json.loads(policy.read_text())["rules"] == []
    proc = debug("compare", model, "--precision", "fp16", "--input", f"x={x_path}",
                 "--input-ranges", "x:-1e6:1e6")
    assert proc.returncode == 0, proc.stderr
    assert "first op over tolerance: none" in proc.stdout, proc.stdout


@pytest.mark.parametrize("args, message", [
    (["frobnicate"], "unknown subcommand 'frobnicate'"),
    (["compare", "MODEL", "--precision", "fp16"], "missing --input"),
    (["search", "MODEL", "--precision", "fp16", "--tolerance", "zero", "--input", "X", "-o", "p.json"],
     "--tolerance must be a positive number"),
    (["compare", "MODEL", "--precision", "fp16", "--input", "X", "--input-ranges", "y:0:1"],
     "no graph input is named 'y'"),
])
def test_usage_errors(files, args, message):
    _, model, x_path, _ = files
    args = [str(model) if a == "MODEL" else f"x={x_path}" if a == "X" else a for a in args]
    proc = debug(*args)
    assert proc.returncode != 0
    assert message in proc.stderr, proc.stderr


BUNDLED = ROOT / "test" / "Inputs" / "models"
BUNDLED_INPUTS = {
    "torch_mlp": ("x", lambda rng: rng.standard_normal((2, 16)).astype(np.float32)),
    "torch_cnn": ("image", lambda rng: rng.standard_normal((2, 3, 16, 16)).astype(np.float32)),
    "torch_encoder": ("ids", lambda rng: rng.integers(0, 100, (2, 8)).astype(np.int64)),
}


@pytest.mark.parametrize("precision", ["fp16", "bf16"])
@pytest.mark.parametrize("name", sorted(BUNDLED_INPUTS))
def test_search_policy_of_a_bundled_model_runs(tmp_path, name, precision):
    """A tolerance no low-precision op meets makes the search force every
    node it can name (the fewest candidates: all-low, fp32 twice, all
    forced), so the policy holds every name the search keys by: mpc-run must
    accept it and reproduce the fp32 outputs."""
    if not MPC_DEBUG.exists():
        pytest.skip(f"{MPC_DEBUG} not built (set MPC_BUILD_DIR)")
    input_name, make = BUNDLED_INPUTS[name]
    data = tmp_path / "in.npy"
    np.save(data, make(np.random.default_rng(5)))
    model = BUNDLED / f"{name}.onnx"
    policy = tmp_path / "policy.json"
    proc = debug("search", model, "--precision", precision, "--tolerance", 1e-7,
                 "--max-candidates", 4, "--input", f"{input_name}={data}", "-o", policy)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(policy.read_text())["rules"], policy.read_text()

    outputs = {}
    for variant, extra in (("fp32", []), ("policy", ["--policy-file", str(policy)])):
        out = tmp_path / variant
        args = [str(MPC_RUN), str(model), "--precision", "fp32" if variant == "fp32" else precision,
                "--input", f"{input_name}={data}", "--output-dir", str(out), *extra]
        run = subprocess.run(args, capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr
        outputs[variant] = np.load(out / "output.npy")
    assert max_relative_error(outputs["policy"], outputs["fp32"]) <= 1e-6
