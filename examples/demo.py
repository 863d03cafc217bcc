"""The README demo: a small BERT-style encoder exported by torch.onnx.export
(examples/encoder.onnx: token ids -> 5 class logits, 2 layers, hidden 32),
compiled and run on the CPU by mpc in fp32 and bf16, checked against
onnxruntime.

Usage: demo.py BUILD_DIR
"""
import pathlib
import subprocess
import sys
import tempfile

import numpy as np
import onnxruntime as ort

HERE = pathlib.Path(__file__).parent
MODEL = HERE / "encoder.onnx"


def mpc_run(bin_dir: pathlib.Path, ids_path: pathlib.Path, precision: str, out: pathlib.Path):
    cmd = [str(bin_dir / "mpc-run"), str(MODEL), "--input", f"ids={ids_path}",
           "--precision", precision, "--output-dir", str(out)]
    print("$ mpc-run", MODEL.name, "--input ids=ids.npy --precision", precision, "--output-dir", out.name)
    subprocess.run(cmd, check=True)
    return np.load(out / "output.npy")


def main() -> int:
    bin_dir = pathlib.Path(sys.argv[1]) / "bin"
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 100, size=(16, 8), dtype=np.int64)
    reference = ort.InferenceSession(str(MODEL), providers=["CPUExecutionProvider"]).run(None, {"ids": ids})[0]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        np.save(tmp / "ids.npy", ids)
        results = {p: mpc_run(bin_dir, tmp / "ids.npy", p, tmp / p) for p in ("fp32", "bf16")}
    scale = np.abs(reference).max()
    print(f"\n{'precision':<10}{'max |err| / max |ref|':>24}{'top-1 agrees':>15}")
    for precision, logits in results.items():
        err = np.abs(logits - reference).max() / scale
        agree = (logits.argmax(1) == reference.argmax(1)).mean()
        print(f"{precision:<10}{err:>24.2e}{agree:>14.0%}")
    bit_identical = np.array_equal(results["fp32"], results["bf16"])
    print(f"\nbf16 differs from fp32 (real low-precision compute): {not bit_identical}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
