"""Training speed on the CPU: mpc's compiled trainer against PyTorch (Debian's
python3-torch, eager mode) on the same model, batch and data, fp32 and bf16
(PyTorch: autocast to bfloat16), both single-threaded, side by side.

Usage: .venv/bin/python bench/train_vs_torch.py [--build build] [--steps 200]

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

MODELS = {
    "mlp": ("x", ["--optimizer", "sgd", "--lr", "0.1", "--momentum", "0.9"]),
    "cnn": ("x", ["--optimizer", "sgd", "--lr", "0.05", "--momentum", "0.9"]),
    "encoder": ("ids", ["--optimizer", "adamw", "--lr", "0.003"]),
}

TORCH_SCRIPT = r"""
import json, sys, time
import numpy as np, torch, torch.nn as nn
sys.path.insert(0, sys.argv[1])
import make_training_refs as refs
torch.set_num_threads(1)
name, input_name, precision, steps, batch = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
cls = {"mlp": refs.MLP, "cnn": refs.CNN, "encoder": refs.Encoder}[name]
model = cls()
model.train()
x = np.load(f"{sys.argv[1]}/{name}_{input_name}.npy")
y = np.load(f"{sys.argv[1]}/{name}_label.npy")
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


def mpc_steps_per_s(build, work, name, precision, steps, batch):
    input_name, flags = MODELS[name]
    trainer = work / f"{name}-{precision}"
    subprocess.run([str(build / "bin" / "mpc-compile"), str(TRAIN / f"{name}.onnx"), "--train", "--loss",
                    "cross_entropy", "--label", "label", *flags, "--precision", precision, "--batch",
                    str(batch), "--target", "cpu", "-o", str(trainer)], check=True, capture_output=True)
    data = ["--data", f"{input_name}={TRAIN / f'{name}_{input_name}.npy'}",
            "--data", f"label={TRAIN / f'{name}_label.npy'}"]

    def timed(n):
        start = time.perf_counter()
        subprocess.run([str(trainer), *data, "--steps", str(n)], check=True, capture_output=True)
        return time.perf_counter() - start

    return (steps - 1) / (timed(steps) - timed(1))


def torch_steps_per_s(name, precision, steps, batch):
    input_name = MODELS[name][0]
    out = subprocess.run(["/usr/bin/python3", "-c", TORCH_SCRIPT, str(TRAIN), name, input_name, precision,
                          str(steps), str(batch)], check=True, capture_output=True, text=True,
                         env={**os.environ, "OMP_NUM_THREADS": "1"})
    return json.loads(out.stdout.strip().splitlines()[-1])["steps_per_s"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default=str(ROOT / "build"))
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--models", default="mlp,cnn,encoder")
    args = parser.parse_args()
    build = pathlib.Path(args.build)
    print(f"training steps/s, batch {args.batch}, 1 thread each ({args.steps} steps)")
    print(f"{'model':10} {'precision':9} {'mpc':>10} {'pytorch':>10} {'mpc/pytorch':>12}")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models.split(","):
            for precision in ["fp32", "bf16"]:
                ours = mpc_steps_per_s(build, pathlib.Path(tmp), name, precision, args.steps, args.batch)
                theirs = torch_steps_per_s(name, precision, args.steps, args.batch)
                print(f"{name:10} {precision:9} {ours:10.1f} {theirs:10.1f} {ours / theirs:12.2f}")
                sys.stdout.flush()


if __name__ == "__main__":
    main()
