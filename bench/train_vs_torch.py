"""Training speed on the CPU: mpc's compiled trainer against PyTorch (Debian's
python3-torch, eager mode) on the same model, batch and data, fp32 and bf16
(PyTorch: autocast to bfloat16), both single-threaded, side by side.

Usage: .venv/bin/python bench/train_vs_torch.py [--build build] [--steps 200]
           [--models mlp,cnn,encoder,cnn_wide] [--baseline-build OLD_BUILD]

cnn_wide (not in the default list) is a CNN whose convolutions are large
enough for mpc's im2col + matmul path (3 -> 32 -> 64 -> 64 channels at
28x28 and 14x14): exported at run time by /usr/bin/python3 with random data
(it is not one of the committed test models). With --baseline-build, the
trainer compiled by that build's mpc-compile is timed in the same rounds
(order alternating per precision) and a column gives mpc / baseline.

Per-step time is measured without start-up: mpc's trainer is timed at
--steps N and --steps 1 and the difference divided by N-1; PyTorch's loop is
timed after two warm-up steps. Prints steps/s and the ratio mpc/PyTorch
(> 1: mpc is faster).
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
TRAIN = ROOT / "test" / "Inputs" / "train"
sys.path.insert(0, str(ROOT / "python"))
from mpc import commands  # noqa: E402

# name: (input name, mpc-compile's optimizer options)
MODELS = {
    "mlp": ("x", {"optimizer": "sgd", "lr": 0.1, "momentum": 0.9}),
    "cnn": ("x", {"optimizer": "sgd", "lr": 0.05, "momentum": 0.9}),
    "encoder": ("ids", {"optimizer": "adamw", "lr": 0.003}),
    "cnn_wide": ("x", {"optimizer": "sgd", "lr": 0.05, "momentum": 0.9}),
}

# A CNN whose convolutions (and their input gradients) pass mpc-conv-to-
# matmul's 2^20 multiply-add threshold at batch 32.
WIDE_CNN = r"""
import torch, torch.nn as nn
class WideCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(32)
        self.conv2 = nn.Conv2d(32, 64, 3, stride=2, padding=1)
        self.bn2 = nn.BatchNorm2d(64)
        self.conv3 = nn.Conv2d(64, 64, 3, padding=1)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = torch.relu(self.bn2(self.conv2(x)))
        x = torch.relu(self.conv3(x))
        x = torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1)
        return self.fc(x)
"""

EXPORT_WIDE_CNN = WIDE_CNN + r"""
import sys, numpy as np
out = sys.argv[1]
torch.manual_seed(0)
model = WideCNN()
# One forward pass in train mode moves the running statistics off the fresh
# ones and zeros, which the exporter would otherwise merge with the batch
# norms' scale and bias (mpc-compile --train refuses such shared weights).
with torch.no_grad():
    model(torch.randn(8, 3, 28, 28))
model.eval()
torch.onnx.export(model, torch.zeros(2, 3, 28, 28), f"{out}/cnn_wide.onnx", opset_version=17,
                  input_names=["x"], output_names=["logits"],
                  dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}},
                  training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
rng = np.random.default_rng(0)
np.save(f"{out}/cnn_wide_x.npy", rng.standard_normal((256, 3, 28, 28)).astype(np.float32))
np.save(f"{out}/cnn_wide_label.npy", rng.integers(0, 10, 256).astype(np.int64))
"""

TORCH_SCRIPT = WIDE_CNN + r"""
import json, sys, time
import numpy as np, torch, torch.nn as nn
sys.path.insert(0, sys.argv[1])
import make_training_refs as refs
torch.set_num_threads(1)
name, input_name, precision, steps, batch = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
data = sys.argv[7]
cls = {"mlp": refs.MLP, "cnn": refs.CNN, "encoder": refs.Encoder, "cnn_wide": WideCNN}[name]
torch.manual_seed(0)
model = cls()
model.train()
x = np.load(f"{data}/{name}_{input_name}.npy")
y = np.load(f"{data}/{name}_label.npy")
if name == "encoder":
    opt = torch.optim.AdamW(model.parameters(), lr=0.003)
else:
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
loss_fn = nn.CrossEntropyLoss()
rows = x.shape[0] - x.shape[0] % batch
def step(i):
    s = (i * batch) % rows
    xb, yb = torch.from_numpy(x[s:s + batch]), torch.from_numpy(y[s:s + batch])
    opt.zero_grad()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
        loss = loss_fn(model(xb), yb)
    loss.backward()
    opt.step()
for i in range(2):
    step(i)
start = time.perf_counter()
for i in range(steps):
    step(i)
print(json.dumps({"steps_per_s": steps / (time.perf_counter() - start)}))
"""


def mpc_trainer(build, work, data, name, precision, batch):
    """Compiles the trainer; returns a function timing N steps of it (s)."""
    input_name, optimizer = MODELS[name]
    trainer = work / f"{name}-{precision}-{abs(hash(str(build)))}"
    subprocess.run(commands.mpc_compile(build / "bin" / "mpc-compile", data / f"{name}.onnx", trainer,
                                        batch=batch, loss="cross_entropy", label="label", precision=precision,
                                        **optimizer), check=True, capture_output=True)
    files = {input_name: data / f"{name}_{input_name}.npy", "label": data / f"{name}_label.npy"}

    def timed(n):
        start = time.perf_counter()
        subprocess.run(commands.trainer(trainer, files, steps=n), check=True, capture_output=True)
        return time.perf_counter() - start

    return timed


def mpc_steps_per_s(timed, steps):
    return (steps - 1) / (timed(steps) - timed(1))


def torch_steps_per_s(data, name, precision, steps, batch):
    input_name = MODELS[name][0]
    out = subprocess.run(["/usr/bin/python3", "-c", TORCH_SCRIPT, str(TRAIN), name, input_name, precision,
                          str(steps), str(batch), str(data)], check=True, capture_output=True, text=True,
                         env={**os.environ, "OMP_NUM_THREADS": "1"})
    return json.loads(out.stdout.strip().splitlines()[-1])["steps_per_s"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default=str(ROOT / "build"))
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--models", default="mlp,cnn,encoder")
    parser.add_argument("--baseline-build", default=None)
    args = parser.parse_args()
    build = pathlib.Path(args.build)
    base = pathlib.Path(args.baseline_build) if args.baseline_build else None
    print(f"training steps/s, batch {args.batch}, 1 thread each ({args.steps} steps)")
    header = f"{'model':10} {'precision':9} {'mpc':>10} {'pytorch':>10} {'mpc/pytorch':>12}"
    if base:
        header += f" {'baseline':>10} {'mpc/baseline':>13}"
    print(header)
    with tempfile.TemporaryDirectory() as tmp:
        work = pathlib.Path(tmp)
        for number, name in enumerate(args.models.split(",")):
            data = TRAIN
            if name == "cnn_wide":
                data = work
                subprocess.run(["/usr/bin/python3", "-c", EXPORT_WIDE_CNN, str(work)], check=True,
                               capture_output=True)
            for turn, precision in enumerate(["fp32", "bf16"]):
                timed = mpc_trainer(build, work, data, name, precision, args.batch)
                if base:
                    base_timed = mpc_trainer(base, work, data, name, precision, args.batch)
                    # Alternate which trainer runs first, so a slow stretch
                    # of a shared machine does not always hit the same one.
                    if (number + turn) % 2:
                        theirs_base = mpc_steps_per_s(base_timed, args.steps)
                        ours = mpc_steps_per_s(timed, args.steps)
                    else:
                        ours = mpc_steps_per_s(timed, args.steps)
                        theirs_base = mpc_steps_per_s(base_timed, args.steps)
                else:
                    ours = mpc_steps_per_s(timed, args.steps)
                theirs = torch_steps_per_s(data, name, precision, args.steps, args.batch)
                row = f"{name:10} {precision:9} {ours:10.1f} {theirs:10.1f} {ours / theirs:12.2f}"
                if base:
                    row += f" {theirs_base:10.1f} {ours / theirs_base:13.2f}"
                print(row)
                sys.stdout.flush()


if __name__ == "__main__":
    main()
