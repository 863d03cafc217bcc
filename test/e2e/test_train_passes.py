"""End-to-end checks of mpc-batch-norm-training, mpc-loss-scaling and
mpc-optimizer: the passes run with mpc-opt on hand-written IR, the result
runs with `mpc-run --precision none`, and the numbers are compared with
numpy implementations of PyTorch's formulas (and with torch itself, through
Debian's /usr/bin/python3, when it has torch).

The training IR is written in the form mpc-autodiff leaves (docs/training.md):
parameters are arguments (role "param"), the loss and one gradient per
parameter are results, and the gradient is seeded by the `mpc.grad_seed`
constant: here grad = g * seed for an input g, so a test controls the
gradients exactly (and can make them overflow once scaled).
"""
import json
import pathlib
import subprocess

import numpy as np
import pytest

from mpc_e2e import BUILD_DIR, MPC_RUN

MPC_OPT = BUILD_DIR / "bin" / "mpc-opt"
SYSTEM_PYTHON = pathlib.Path("/usr/bin/python3")
F32 = np.float32

# Two parameters (w: 2x3, u: 3); loss = sum(w * g) + sum(u * h) + c, so
# dloss/dw = g and dloss/du = h; c only reaches the loss.
TRAIN_IR = """
module {
  mpc.parameter @w : tensor<2x3xf32> = dense<0.0> : tensor<2x3xf32>
  mpc.parameter @u : tensor<3xf32> = dense<0.0> : tensor<3xf32>
  func.func @main(%w: tensor<2x3xf32> {mpc.name = "w", mpc.role = "param", mpc.param = @w},
                  %u: tensor<3xf32> {mpc.name = "u", mpc.role = "param", mpc.param = @u},
                  %g: tensor<2x3xf32> {mpc.name = "g", mpc.role = "input"},
                  %h: tensor<3xf32> {mpc.name = "h", mpc.role = "input"},
                  %c: tensor<f32> {mpc.name = "c", mpc.role = "input"})
      -> (tensor<f32> {mpc.name = "loss", mpc.role = "loss"},
          tensor<2x3xf32> {mpc.name = "y", mpc.role = "output"},
          tensor<2x3xf32> {mpc.name = "w", mpc.role = "grad"},
          tensor<3xf32> {mpc.name = "u", mpc.role = "grad"}) {
    %wg = mpc.mul %w, %g : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
    %s1 = mpc.reduce_sum %wg {axes = array<i64: 0, 1>, keepdims = false} : (tensor<2x3xf32>) -> tensor<f32>
    %uh = mpc.mul %u, %h : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
    %s2 = mpc.reduce_sum %uh {axes = array<i64: 0>, keepdims = false} : (tensor<3xf32>) -> tensor<f32>
    %s3 = mpc.add %s1, %s2 : (tensor<f32>, tensor<f32>) -> tensor<f32>
    %loss = mpc.add %s3, %c : (tensor<f32>, tensor<f32>) -> tensor<f32>
    %seed = arith.constant {mpc.grad_seed} dense<1.0> : tensor<f32>
    %gw = mpc.mul %g, %seed : (tensor<2x3xf32>, tensor<f32>) -> tensor<2x3xf32>
    %gu = mpc.mul %h, %seed : (tensor<3xf32>, tensor<f32>) -> tensor<3xf32>
    return %loss, %wg, %gw, %gu : tensor<f32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<3xf32>
  }
}
"""

PARAMS = ("w", "u")


@pytest.fixture
def tools():
    for tool in (MPC_OPT, MPC_RUN):
        if not tool.exists():
            pytest.skip(f"{tool} not built (set MPC_BUILD_DIR)")


class Trainer:
    """The compiled @train_step, run one step at a time with state fed back."""

    def __init__(self, tmp_path, passes, ir=TRAIN_IR):
        self.work = tmp_path
        source = tmp_path / "train.mlir"
        source.write_text(ir)
        self.module = tmp_path / "train_step.mlir"
        proc = subprocess.run([str(MPC_OPT), *passes, str(source), "-o", str(self.module)],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        self.text = self.module.read_text()
        self.count = 0

    def step(self, feeds):
        self.count += 1
        run = self.work / f"step{self.count}"
        run.mkdir()
        args = [str(MPC_RUN), str(self.module), "--precision", "none", "--entry", "train_step",
                "--output-dir", str(run / "out")]
        for name, value in feeds.items():
            path = run / f"in_{name}.npy"
            np.save(path, value)
            args += ["--input", f"{name}={path}"]
        proc = subprocess.run(args, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        return {p.name[:-4]: np.load(p) for p in (run / "out").glob("*.npy")}


def batch(rng, scale=1.0):
    return {"g": (rng.standard_normal((2, 3)) * scale).astype(F32),
            "h": (rng.standard_normal(3) * scale).astype(F32), "c": np.array(0.5, F32)}


def initial_params(rng):
    return {"w": rng.standard_normal((2, 3)).astype(F32), "u": rng.standard_normal(3).astype(F32)}


def grads_of(feeds):
    return {"w": feeds["g"], "u": feeds["h"]}


# --- numpy references of torch.optim (float32 tensors, float64 scalars) ---

def sgd_reference(params, bufs, grads, lr, momentum=0.0, weight_decay=0.0, nesterov=False):
    new_params, new_bufs = {}, {}
    for name, w in params.items():
        d = grads[name]
        if weight_decay:
            d = d + F32(weight_decay) * w
        if momentum:
            buf = d.copy() if bufs.get(name) is None else F32(momentum) * bufs[name] + d
            new_bufs[name] = buf
            d = d + F32(momentum) * buf if nesterov else buf
        new_params[name] = w - F32(lr) * d
    return new_params, new_bufs


def adamw_reference(params, state, grads, t, lr, beta1=0.9, beta2=0.999, eps=1e-8,
                    weight_decay=0.0):
    new_params, new_state = {}, {}
    step_size = lr / (1 - beta1 ** t)
    correction2_sqrt = np.sqrt(1 - beta2 ** t)
    for name, w in params.items():
        g = grads[name]
        m, v = state.get(name, (np.zeros_like(w), np.zeros_like(w)))
        w = w * F32(1 - lr * weight_decay)
        m = F32(beta1) * m + F32(1 - beta1) * g
        v = F32(beta2) * v + F32(1 - beta2) * g * g
        denom = np.sqrt(v) / F32(correction2_sqrt) + F32(eps)
        new_params[name] = w - F32(step_size) * (m / denom)
        new_state[name] = (m, v)
    return new_params, new_state


def close(actual, expected, rtol=2e-6, atol=1e-7):
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


# --- the signature contract ------------------------------------------------

def result_names(text):
    """(name, role) of @train_step's results, in order."""
    import re
    header = text[text.index("func.func @train_step"):]
    header = header[header.index("->"):header.index("{\n")]
    return re.findall(r'mpc.name = "([^"]+)", mpc.role = "([^"]+)"', header)


def test_results_are_state_in_argument_order_then_loss_finite_outputs(tools, tmp_path):
    trainer = Trainer(tmp_path, ["--mpc-loss-scaling=mode=dynamic",
                                 "--mpc-optimizer=optimizer=adamw lr=0.01"])
    assert "@main" not in trainer.text
    assert result_names(trainer.text) == [
        ("w", "param"), ("u", "param"), ("loss_scale", "scaler"),
        ("loss_scale_good_steps", "scaler"), ("step", "opt"), ("w.exp_avg", "opt"),
        ("w.exp_avg_sq", "opt"), ("u.exp_avg", "opt"), ("u.exp_avg_sq", "opt"),
        ("loss", "loss"), ("finite", "finite"), ("y", "output")]


# --- SGD ---------------------------------------------------------------------

@pytest.mark.parametrize("momentum,weight_decay,nesterov", [
    (0.0, 0.0, False), (0.9, 0.0, False), (0.9, 0.01, False), (0.8, 0.05, True)])
def test_sgd_matches_torch_formulas_over_steps(tools, tmp_path, momentum, weight_decay, nesterov):
    lr = 0.1
    options = f"optimizer=sgd lr={lr} momentum={momentum} weight-decay={weight_decay}"
    if nesterov:
        options += " nesterov=true"
    trainer = Trainer(tmp_path, ["--mpc-loss-scaling=mode=none", f"--mpc-optimizer={options}"])
    assert ("momentum_buffer" in trainer.text) == (momentum != 0)
    rng = np.random.default_rng(0)
    params = initial_params(rng)
    state = {f"{n}.momentum_buffer": np.zeros_like(params[n]) for n in PARAMS} if momentum else {}
    ref_params, ref_bufs = dict(params), {}
    ref_prev = dict(params)
    for _ in range(4):
        feeds = batch(rng)
        out = trainer.step({**params, **feeds, **state})
        ref_params, ref_bufs = sgd_reference(ref_params, ref_bufs, grads_of(feeds), lr, momentum,
                                             weight_decay, nesterov)
        assert out["finite"]
        for name in PARAMS:
            close(out[name], ref_params[name])
            if momentum:
                close(out[f"{name}.momentum_buffer"], ref_bufs[name])
        params = {n: out[n] for n in PARAMS}
        state = {k: out[k] for k in state}
        # The loss is the forward value at the parameters before the step.
        close(out["loss"], np.sum(ref_prev["w"] * feeds["g"]) + np.sum(ref_prev["u"] * feeds["h"])
              + F32(0.5), rtol=1e-5, atol=1e-6)
        ref_prev = dict(ref_params)


# --- AdamW -------------------------------------------------------------------

@pytest.mark.parametrize("weight_decay,betas", [(0.0, (0.9, 0.999)), (0.05, (0.8, 0.99))])
def test_adamw_matches_torch_formulas_over_steps(tools, tmp_path, weight_decay, betas):
    lr, eps = 0.05, 1e-8
    trainer = Trainer(tmp_path, ["--mpc-loss-scaling=mode=none",
                                 f"--mpc-optimizer=optimizer=adamw lr={lr} beta1={betas[0]} "
                                 f"beta2={betas[1]} eps={eps} weight-decay={weight_decay}"])
    rng = np.random.default_rng(1)
    params = initial_params(rng)
    state = {"step": np.array(0, F32)}
    for n in PARAMS:
        state[f"{n}.exp_avg"] = np.zeros_like(params[n])
        state[f"{n}.exp_avg_sq"] = np.zeros_like(params[n])
    ref_params, ref_state = dict(params), {}
    for t in range(1, 6):
        feeds = batch(rng)
        out = trainer.step({**params, **feeds, **state})
        ref_params, ref_state = adamw_reference(ref_params, ref_state, grads_of(feeds), t, lr,
                                                betas[0], betas[1], eps, weight_decay)
        assert out["step"] == t
        for name in PARAMS:
            close(out[name], ref_params[name], rtol=1e-5, atol=1e-6)
            close(out[f"{name}.exp_avg"], ref_state[name][0])
            close(out[f"{name}.exp_avg_sq"], ref_state[name][1])
        params = {n: out[n] for n in PARAMS}
        state = {k: out[k] for k in state}


TORCH_SCRIPT = """
import json, sys
import numpy as np
import torch
spec = json.loads(sys.argv[1])
data = np.load(spec["data"])
params = {n: torch.nn.Parameter(torch.from_numpy(data["init_" + n].copy())) for n in spec["params"]}
kind = spec.pop("optimizer")
options = spec["options"]
opt = (torch.optim.SGD if kind == "sgd" else torch.optim.AdamW)(list(params.values()), **options)
for step in range(spec["steps"]):
    for n, p in params.items():
        p.grad = torch.from_numpy(data[f"grad{step}_{n}"].copy())
    opt.step()
np.savez(spec["out"], **{n: p.detach().numpy() for n, p in params.items()})
"""


def torch_available():
    if not SYSTEM_PYTHON.exists():
        return False
    proc = subprocess.run([str(SYSTEM_PYTHON), "-c", "import torch"], capture_output=True)
    return proc.returncode == 0


@pytest.mark.parametrize("kind,options,flags", [
    ("sgd", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01, "nesterov": True},
     "optimizer=sgd lr=0.1 momentum=0.9 weight-decay=0.01 nesterov=true"),
    ("adamw", {"lr": 0.01, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.01},
     "optimizer=adamw lr=0.01 beta1=0.9 beta2=0.999 eps=1e-8 weight-decay=0.01"),
])
def test_optimizer_matches_real_torch_optim(tools, tmp_path, kind, options, flags):
    if not torch_available():
        pytest.skip("no torch for /usr/bin/python3 (Debian's python3-torch)")
    steps = 5
    trainer = Trainer(tmp_path, ["--mpc-loss-scaling=mode=dynamic", f"--mpc-optimizer={flags}"])
    rng = np.random.default_rng(2)
    params = initial_params(rng)
    data = {f"init_{n}": v for n, v in params.items()}
    state = {"loss_scale": np.array(65536, F32), "loss_scale_good_steps": np.array(0, np.int64)}
    if kind == "sgd":
        state.update({f"{n}.momentum_buffer": np.zeros_like(params[n]) for n in PARAMS})
    else:
        state["step"] = np.array(0, F32)
        for n in PARAMS:
            state[f"{n}.exp_avg"] = np.zeros_like(params[n])
            state[f"{n}.exp_avg_sq"] = np.zeros_like(params[n])
    for step in range(steps):
        feeds = batch(rng)
        data.update({f"grad{step}_{n}": g for n, g in grads_of(feeds).items()})
        out = trainer.step({**params, **feeds, **state})
        params = {n: out[n] for n in PARAMS}
        state = {k: out[k] for k in state}
    np.savez(tmp_path / "data.npz", **data)
    spec = {"data": str(tmp_path / "data.npz"), "out": str(tmp_path / "torch.npz"),
            "params": list(PARAMS), "optimizer": kind, "options": options, "steps": steps}
    proc = subprocess.run([str(SYSTEM_PYTHON), "-c", TORCH_SCRIPT, json.dumps(spec)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    expected = np.load(tmp_path / "torch.npz")
    for name in PARAMS:
        close(params[name], expected[name], rtol=1e-5, atol=1e-6)
        # The parameters moved: the comparison is not of two unchanged copies.
        assert np.max(np.abs(params[name] - data[f"init_{name}"])) > 1e-3


# --- loss scaling ------------------------------------------------------------

def sgd_state(params):
    return {f"{n}.momentum_buffer": np.zeros_like(params[n]) for n in PARAMS}


def test_dynamic_scale_grows_after_interval_and_backs_off_skipping_the_step(tools, tmp_path):
    trainer = Trainer(tmp_path, [
        "--mpc-loss-scaling=mode=dynamic init-scale=1024 growth-interval=3",
        "--mpc-optimizer=optimizer=adamw lr=0.01"])
    rng = np.random.default_rng(3)
    params = initial_params(rng)
    state = {"step": np.array(0, F32), "loss_scale": np.array(1024, F32),
             "loss_scale_good_steps": np.array(0, np.int64)}
    for n in PARAMS:
        state[f"{n}.exp_avg"] = rng.standard_normal(params[n].shape).astype(F32) * F32(0.1)
        state[f"{n}.exp_avg_sq"] = np.abs(rng.standard_normal(params[n].shape)).astype(F32)
    expected_scale = [1024, 1024, 2048, 1024, 1024, 1024, 2048]
    expected_count = [1, 2, 0, 0, 1, 2, 0]
    for index in range(7):
        feeds = batch(rng)
        if index == 3:
            # Finite, but overflows f32 once multiplied by the scale (2048).
            feeds["g"][1, 2] = F32(3e35)
        out = trainer.step({**params, **feeds, **state})
        assert out["loss_scale"] == expected_scale[index], index
        assert out["loss_scale_good_steps"] == expected_count[index], index
        assert bool(out["finite"]) == (index != 3)
        if index == 3:
            # Skipped: every state but the scaler is unchanged, bit for bit.
            for name in PARAMS:
                assert out[name].tobytes() == params[name].tobytes()
            for key in state:
                if not key.startswith("loss_scale"):
                    assert out[key].tobytes() == state[key].tobytes(), key
        params = {n: out[n] for n in PARAMS}
        state = {k: out[k] for k in state}
    assert state["step"] == 6


@pytest.mark.parametrize("poison", ["nan_grad", "inf_grad", "nan_loss"])
def test_non_finite_step_changes_no_state(tools, tmp_path, poison):
    trainer = Trainer(tmp_path, ["--mpc-loss-scaling=mode=dynamic init-scale=256",
                                 "--mpc-optimizer=optimizer=sgd lr=0.1 momentum=0.9"])
    rng = np.random.default_rng(4)
    params = initial_params(rng)
    state = {"loss_scale": np.array(256, F32), "loss_scale_good_steps": np.array(5, np.int64)}
    state.update({k: rng.standard_normal(v.shape).astype(F32) for k, v in sgd_state(params).items()})
    feeds = batch(rng)
    if poison == "nan_grad":
        feeds["h"][0] = np.nan
    elif poison == "inf_grad":
        feeds["g"][0, 0] = -np.inf
    else:
        feeds["c"] = np.array(np.nan, F32)
    out = trainer.step({**params, **feeds, **state})
    assert not out["finite"]
    assert out["loss_scale"] == 128 and out["loss_scale_good_steps"] == 0
    for name in PARAMS:
        assert out[name].tobytes() == params[name].tobytes()
        key = f"{name}.momentum_buffer"
        assert out[key].tobytes() == state[key].tobytes()


def test_scale_is_clamped_to_min_and_max(tools, tmp_path):
    trainer = Trainer(tmp_path, [
        "--mpc-loss-scaling=mode=dynamic init-scale=8 min-scale=2 max-scale=16 growth-interval=1",
        "--mpc-optimizer=optimizer=sgd lr=0.1"])
    rng = np.random.default_rng(5)
    params = initial_params(rng)
    state = {"loss_scale": np.array(8, F32), "loss_scale_good_steps": np.array(0, np.int64)}
    scales = []
    for index in range(9):
        feeds = batch(rng)
        if index < 5:
            feeds["g"][0, 1] = np.inf
        out = trainer.step({**params, **feeds, **state})
        scales.append(float(out["loss_scale"]))
        params = {n: out[n] for n in PARAMS}
        state = {k: out[k] for k in state}
    # Five bad steps stop at min-scale 2; growth (every good step) stops at 16.
    assert scales == [4, 2, 2, 2, 2, 4, 8, 16, 16]


def test_static_scale_seeds_and_unscales(tools, tmp_path):
    trainer = Trainer(tmp_path, ["--mpc-loss-scaling=mode=static init-scale=4096",
                                 "--mpc-optimizer=optimizer=sgd lr=0.5"])
    assert "dense<4.096000e+03>" in trainer.text and "loss_scale" not in trainer.text
    rng = np.random.default_rng(6)
    params = initial_params(rng)
    feeds = batch(rng)
    out = trainer.step({**params, **feeds})
    assert out["finite"]
    expected, _ = sgd_reference(params, {}, grads_of(feeds), 0.5)
    for name in PARAMS:
        close(out[name], expected[name])
    # 1e36 * 4096 overflows: the static scale also skips the step.
    feeds["h"][2] = F32(1e36)
    out = trainer.step({**params, **feeds})
    assert not out["finite"]
    for name in PARAMS:
        assert out[name].tobytes() == params[name].tobytes()


def test_none_mode_keeps_seed_and_still_checks(tools, tmp_path):
    trainer = Trainer(tmp_path, ["--mpc-loss-scaling=mode=none",
                                 "--mpc-optimizer=optimizer=sgd lr=0.5"])
    assert "mpc.grad_seed" in trainer.text and "mpc.div" not in trainer.text
    rng = np.random.default_rng(7)
    params = initial_params(rng)
    feeds = batch(rng)
    feeds["h"][2] = F32(1e36)  # large but finite: no scale, so no overflow
    out = trainer.step({**params, **feeds})
    assert out["finite"]
    feeds["h"][2] = np.nan
    out = trainer.step({**params, **feeds})
    assert not out["finite"]
    for name in PARAMS:
        assert out[name].tobytes() == params[name].tobytes()


# --- batch norm in training mode -----------------------------------------------

BN_IR = """
module {
  mpc.parameter @scale : tensor<3xf32> = dense<[1.0, 2.0, 0.5]> : tensor<3xf32>
  mpc.parameter @bias : tensor<3xf32> = dense<[0.0, 1.0, -1.0]> : tensor<3xf32>
  mpc.parameter @"bn.running_mean" : tensor<3xf32> = dense<[0.1, -0.2, 0.3]> : tensor<3xf32>
  mpc.parameter @"bn.running_var" : tensor<3xf32> = dense<[1.0, 2.0, 0.5]> : tensor<3xf32>
  func.func @main(%x: tensor<SHAPExf32> {mpc.name = "x"}) -> (tensor<SHAPExf32> {mpc.name = "y"}) {
    %s = mpc.get_parameter @scale : tensor<3xf32>
    %b = mpc.get_parameter @bias : tensor<3xf32>
    %m = mpc.get_parameter @"bn.running_mean" : tensor<3xf32>
    %v = mpc.get_parameter @"bn.running_var" : tensor<3xf32>
    %y = mpc.batch_norm %x, %s, %b, %m, %v {epsilon = 1.0e-03 : f64, momentum = 0.8 : f64, mpc.node = "bn"} : (tensor<SHAPExf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<SHAPExf32>
    return %y : tensor<SHAPExf32>
  }
}
"""


def run_batch_norm_training(tmp_path, shape, x):
    """Runs BN_IR for input `x` after mpc-batch-norm-training: {name: array}."""
    source = tmp_path / "bn.mlir"
    source.write_text(BN_IR.replace("SHAPE", "x".join(map(str, shape))))
    module = tmp_path / "bn_train.mlir"
    proc = subprocess.run([str(MPC_OPT), "--mpc-batch-norm-training", str(source), "-o",
                           str(module)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "mpc.batch_norm" not in module.read_text()
    np.save(tmp_path / "x.npy", x)
    proc = subprocess.run([str(MPC_RUN), str(module), "--precision", "none", "--input",
                           f"x={tmp_path / 'x.npy'}", "--output-dir", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return {p.name[:-4]: np.load(p) for p in (tmp_path / "out").glob("*.npy")}


@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 5), (2, 3, 4, 5)])
def test_batch_norm_training_matches_numpy(tools, tmp_path, shape):
    x = (np.random.default_rng(8).standard_normal(shape) * 3 + 1).astype(F32)
    out = run_batch_norm_training(tmp_path, shape, x)
    axes = tuple(d for d in range(len(shape)) if d != 1)
    stat = (1, 3) + (1,) * (len(shape) - 2)
    x64 = x.astype(np.float64)
    mean, var = x64.mean(axes), x64.var(axes)  # biased, as PyTorch normalizes
    y = (x64 - mean.reshape(stat)) / np.sqrt(var.reshape(stat) + 1e-3)
    y = y * np.array([1.0, 2.0, 0.5]).reshape(stat) + np.array([0.0, 1.0, -1.0]).reshape(stat)
    close(out["y"], y, rtol=1e-5, atol=1e-5)
    # ONNX momentum 0.8 is PyTorch momentum 0.2: new = 0.8 old + 0.2 batch,
    # and the running variance takes the unbiased batch variance.
    n = x.size // 3
    close(out["bn.running_mean"], 0.8 * np.array([0.1, -0.2, 0.3]) + 0.2 * mean, rtol=1e-5)
    close(out["bn.running_var"], 0.8 * np.array([1.0, 2.0, 0.5]) + 0.2 * var * n / (n - 1),
          rtol=1e-5)


BN_TORCH_SCRIPT = """
import sys, numpy as np, torch
x = torch.from_numpy(np.load(sys.argv[1]))
bn = torch.nn.BatchNorm2d(3, eps=1e-3, momentum=0.2)
with torch.no_grad():
    bn.weight.copy_(torch.tensor([1.0, 2.0, 0.5]))
    bn.bias.copy_(torch.tensor([0.0, 1.0, -1.0]))
    bn.running_mean.copy_(torch.tensor([0.1, -0.2, 0.3]))
    bn.running_var.copy_(torch.tensor([1.0, 2.0, 0.5]))
bn.train()
y = bn(x).detach().numpy()
np.savez(sys.argv[2], y=y, mean=bn.running_mean.numpy(), var=bn.running_var.numpy())
"""


def test_batch_norm_training_matches_torch_batchnorm2d(tools, tmp_path):
    if not torch_available():
        pytest.skip("no torch for /usr/bin/python3 (Debian's python3-torch)")
    shape = (2, 3, 4, 5)
    x = np.random.default_rng(9).standard_normal(shape).astype(F32)
    out = run_batch_norm_training(tmp_path, shape, x)
    proc = subprocess.run([str(SYSTEM_PYTHON), "-c", BN_TORCH_SCRIPT, str(tmp_path / "x.npy"),
                           str(tmp_path / "torch.npz")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    expected = np.load(tmp_path / "torch.npz")
    close(out["y"], expected["y"], rtol=1e-5, atol=1e-5)
    close(out["bn.running_mean"], expected["mean"], rtol=1e-5)
    close(out["bn.running_var"], expected["var"], rtol=1e-5)


# A running statistic after mpc-parameters-to-arguments: a "buffer" argument
# and the batch-norm pass's "buffer" result of the same name.
BUFFER_IR = """
module {
  mpc.parameter @w : tensor<3xf32> = dense<0.0> : tensor<3xf32>
  mpc.parameter @rm : tensor<3xf32> = dense<0.0> : tensor<3xf32>
  func.func @main(%w: tensor<3xf32> {mpc.name = "w", mpc.role = "param", mpc.param = @w},
                  %rm: tensor<3xf32> {mpc.name = "rm", mpc.role = "buffer", mpc.param = @rm},
                  %g: tensor<3xf32> {mpc.name = "g", mpc.role = "input"})
      -> (tensor<f32> {mpc.name = "loss", mpc.role = "loss"},
          tensor<3xf32> {mpc.name = "rm", mpc.role = "buffer"},
          tensor<3xf32> {mpc.name = "w", mpc.role = "grad"}) {
    %wg = mpc.mul %w, %g : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
    %loss = mpc.reduce_sum %wg {axes = array<i64: 0>, keepdims = false} : (tensor<3xf32>) -> tensor<f32>
    %k = arith.constant dense<0.5> : tensor<f32>
    %half = mpc.mul %rm, %k : (tensor<3xf32>, tensor<f32>) -> tensor<3xf32>
    %newrm = mpc.add %half, %w : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
    %seed = arith.constant {mpc.grad_seed} dense<1.0> : tensor<f32>
    %gw = mpc.mul %g, %seed : (tensor<3xf32>, tensor<f32>) -> tensor<3xf32>
    return %loss, %newrm, %gw : tensor<f32>, tensor<3xf32>, tensor<3xf32>
  }
}
"""


def test_running_statistics_update_only_on_finite_steps(tools, tmp_path):
    trainer = Trainer(tmp_path, ["--mpc-loss-scaling=mode=dynamic init-scale=64",
                                 "--mpc-optimizer=optimizer=sgd lr=0.25"], ir=BUFFER_IR)
    assert result_names(trainer.text)[:2] == [("w", "param"), ("rm", "buffer")]
    w = np.array([1.0, -2.0, 3.0], F32)
    rm = np.array([0.5, 0.25, -1.0], F32)
    scaler = {"loss_scale": np.array(64, F32), "loss_scale_good_steps": np.array(0, np.int64)}
    g = np.array([0.5, 1.0, -4.0], F32)
    out = trainer.step({"w": w, "rm": rm, "g": g, **scaler})
    close(out["rm"], F32(0.5) * rm + w)
    close(out["w"], w - F32(0.25) * g)
    g[1] = np.inf
    bad = trainer.step({"w": w, "rm": rm, "g": g, **scaler})
    assert not bad["finite"]
    assert bad["rm"].tobytes() == rm.tobytes() and bad["w"].tobytes() == w.tobytes()
    assert bad["loss_scale"] == 32
