"""The README training demo: compiles the bundled CNN (conv + batch norm +
pooling, exported by torch.onnx.export; test/Inputs/train/cnn.onnx) into a
standalone bf16 trainer with mpc-compile, trains it on the bundled 8x8 pattern
images, and checks the saved ONNX model with onnxruntime.

Usage: train_demo.py BUILD_DIR
"""
import pathlib
import subprocess
import sys

import numpy as np
import onnxruntime as ort

ROOT = pathlib.Path(__file__).resolve().parents[1]
DATA = ROOT / "test" / "Inputs" / "train"


def show(cmd):
    print("$", " ".join(str(c).replace(str(ROOT) + "/", "") for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True)


def main() -> int:
    build = pathlib.Path(sys.argv[1])
    out = build / "demo"
    out.mkdir(parents=True, exist_ok=True)
    trainer, saved = out / "cnn-trainer", out / "cnn-trained.onnx"
    show([build / "bin" / "mpc-compile", DATA / "cnn.onnx", "--train", "--loss", "cross_entropy",
          "--label", "label", "--optimizer", "sgd", "--lr", "0.05", "--momentum", "0.9",
          "--precision", "bf16", "--batch", "32", "--target", "cpu", "-o", trainer])
    show([trainer, "--data", f"x={DATA / 'cnn_x.npy'}", "--data", f"label={DATA / 'cnn_label.npy'}",
          "--epochs", "3", "--seed", "1", "--log", out / "cnn-train.jsonl",
          "--eval", f"x={DATA / 'cnn_eval_x.npy'}", "--eval", f"label={DATA / 'cnn_eval_label.npy'}",
          "--save", saved])
    import json
    losses = [json.loads(line)["loss"] for line in (out / "cnn-train.jsonl").read_text().splitlines()
              if '"loss"' in line]
    first, last = np.mean(losses[:8]), np.mean(losses[-8:])
    print(f"\ntraining loss (mean of 8 steps): {first:.3f} at the start -> {last:.3f} at the end")
    session = ort.InferenceSession(str(saved), providers=["CPUExecutionProvider"])
    x = np.load(DATA / "cnn_eval_x.npy")
    y = np.load(DATA / "cnn_eval_label.npy")
    before = ort.InferenceSession(str(DATA / "cnn.onnx"), providers=["CPUExecutionProvider"])
    acc_before = float((before.run(None, {"x": x})[0].argmax(-1) == y).mean())
    acc_after = float((session.run(None, {"x": x})[0].argmax(-1) == y).mean())
    print(f"onnxruntime on {saved.relative_to(build.parent) if saved.is_relative_to(build.parent) else saved}: "
          f"held-out accuracy {acc_before:.1%} before training -> {acc_after:.1%} after")
    return 0 if acc_after > 0.9 else 1


if __name__ == "__main__":
    sys.exit(main())
