"""PyTorch's first 20 fp32 and fp64 losses of the bundled models, SGD and AdamW.

Run with Debian's python3-torch (1.13): `/usr/bin/python3 make_curve_refs.py`.
Each model starts from the initial weights in its committed ONNX file (made by
make_training_refs.py) and trains on the committed batches in file order, as
`TRAINER --no-shuffle` does; curves.json (committed; the suite needs no
PyTorch) holds, per model and optimizer, the hyperparameters and the per-step
losses in fp32 and fp64. test_training.py compares mpc's fp32 trainer with
them step for step.
"""
import json
import pathlib

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import numpy_helper

from make_training_refs import BATCH, CNN, MLP, Encoder

HERE = pathlib.Path(__file__).parent
STEPS = 20
MODELS = {"mlp": (MLP, "x"), "cnn": (CNN, "x"), "encoder": (Encoder, "ids")}
OPTIMIZERS = {
    "sgd": {"lr": 0.05, "momentum": 0.9, "weight_decay": 1e-4},
    "adamw": {"lr": 0.003, "weight_decay": 0.01},
}


def initial_model(name):
    cls, _ = MODELS[name]
    model = cls()
    weights = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy())
               for t in onnx.load(str(HERE / f"{name}.onnx")).graph.initializer}
    state = model.state_dict()
    missing = set(state) - set(weights) - {k for k in state if k.endswith("num_batches_tracked")}
    assert not missing, missing
    model.load_state_dict({k: weights.get(k, v) for k, v in state.items()})
    return model


def losses(name, optimizer, dtype):
    _, input_name = MODELS[name]
    x = np.load(HERE / f"{name}_{input_name}.npy")
    y = torch.from_numpy(np.load(HERE / f"{name}_label.npy"))
    model = initial_model(name).to(dtype)
    model.train()
    settings = OPTIMIZERS[optimizer]
    opt = (torch.optim.SGD if optimizer == "sgd" else torch.optim.AdamW)(model.parameters(), **settings)
    out = []
    for step in range(STEPS):
        xb = torch.from_numpy(x[step * BATCH:(step + 1) * BATCH])
        if xb.is_floating_point():
            xb = xb.to(dtype)
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(xb), y[step * BATCH:(step + 1) * BATCH])
        loss.backward()
        opt.step()
        out.append(float(loss))
    return out


def main():
    curves = {"batch": BATCH, "steps": STEPS, "optimizers": OPTIMIZERS}
    for name in MODELS:
        curves[name] = {}
        for optimizer in OPTIMIZERS:
            f32, f64 = losses(name, optimizer, torch.float32), losses(name, optimizer, torch.float64)
            curves[name][optimizer] = {"fp32": f32, "fp64": f64}
            gap = max(abs(a - b) / abs(b) for a, b in zip(f32, f64))
            print(f"{name} {optimizer}: {f32[0]:.4f} -> {f32[-1]:.4f}, fp32 vs fp64 {gap:.1e}")
    (HERE / "curves.json").write_text(json.dumps(curves, indent=1) + "\n")


if __name__ == "__main__":
    main()
