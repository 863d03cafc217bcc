"""The GPU check's training step (scripts/gpu_check.py, docs/gpu-check.md), run here.

scripts/gpu-bundle.sh --training-target cpu builds the bundle's trainers for the CPU: the training
step then runs them exactly as it runs the CUDA trainers on a GPU machine (with MPC_TEST_DEVICE=
host-copy, through the trainer's device path), so its runs, log parsing, curve comparison, round
trip and CPU checkpoint resume are checked without a GPU. Against the CPU trainer's own reference
runs every figure is exact; a reference moved past the tolerance must FAIL.
"""
import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from mpc_e2e import BUILD_DIR

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from gpu_check import compare_curves  # noqa: E402


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    needed = [BUILD_DIR / "bin" / "mpc-compile", BUILD_DIR / "bin" / "mpc-cuda-probe",
              BUILD_DIR / "lib" / "Runtime" / "CUDA" / "libMpcRuntimeCUDA.a"]
    missing = [str(p) for p in needed if not p.exists()]
    if missing:
        pytest.skip(f"not built: {missing}")
    out = tmp_path_factory.mktemp("bundle") / "b"
    proc = subprocess.run([sys.executable, ROOT / "scripts" / "gpu_bundle.py", out, "--only", "mlp",
                           "--parts", "training", "--training-target", "cpu"], capture_output=True, text=True,
                          timeout=600, env={**os.environ, "MPC_BUILD_DIR": str(BUILD_DIR),
                                            "MPC_CUDA_RUNTIME_BUILD": str(BUILD_DIR)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def check(bundle, logdir, steps="bundle,training"):
    env = {**os.environ, "MPC_TEST_DEVICE": "host-copy"}
    proc = subprocess.run([sys.executable, ROOT / "scripts" / "gpu_check.py", bundle, logdir, "--steps", steps],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads((logdir / "summary.json").read_text()), (logdir / "summary.txt").read_text()


def test_training_step_passes_the_cpu_trainers(bundle, tmp_path):
    meta = json.loads((bundle / "bundle.json").read_text())
    assert [(t["name"], t["precision"]) for t in meta["training"]] == [
        ("mlp", "fp32"), ("mlp", "bf16"), ("mlp_overflow", "fp16")]
    summary, text = check(bundle, tmp_path / "log")
    assert summary["bundle_integrity"]["ok"]
    assert [c["status"] for c in summary["training_selfcheck"]] == ["PASS"] * 9
    runs = {(e["model"], e["precision"]): e for e in summary["training"]}
    assert len(runs) == 3
    for (name, prec), e in runs.items():
        assert e["status"] == "PASS", e
        assert e["curve"]["max_rel"] == 0 and e["curve"]["steps"] == 20
        assert e["cpu_resume"]["max_rel"] == 0 and e["cpu_resume"]["steps"] == 10
        assert e["round_trip"] == {"identical": True, "ok": True}
        assert e["weights_vs_cpu"]["max_normalized_error"] == 0 and e["weights_vs_cpu"]["tensors"] >= 4
        assert e["steps_per_s"] > 0 and e["steps_per_s_over"] == "steps 21-30"
    assert 0 < runs["mlp", "bf16"]["vs_cpu_fp32"]["max_rel"] <= 3e-2
    assert runs["mlp_overflow", "fp16"]["skipped"] == [1, 2, 3]
    assert "mlp_overflow  fp16  PASS" in text and "skipped steps [1, 2, 3]" in text


def test_training_step_fails_a_curve_off_the_reference(bundle, tmp_path):
    """References moved: a loss by 1e-3 relative (fp32: 1e-4), a skipped step that was not."""
    moved = tmp_path / "bundle"
    shutil.copytree(bundle, moved)
    ref = moved / "training" / "mlp" / "fp32" / "ref_cpu.jsonl"
    lines = [json.loads(line) for line in ref.read_text().splitlines()]
    lines[4]["loss"] *= 1.001
    ref.write_text("".join(json.dumps(e) + "\n" for e in lines))
    ref = moved / "training" / "mlp_overflow" / "fp16" / "ref_cpu.jsonl"
    lines = [json.loads(line) for line in ref.read_text().splitlines()]
    lines[5]["finite"] = False
    ref.write_text("".join(json.dumps(e) + "\n" for e in lines))
    summary, text = check(moved, tmp_path / "log", steps="training")
    runs = {(e["model"], e["precision"]): e for e in summary["training"]}
    fp32 = runs["mlp", "fp32"]
    assert fp32["status"] == "FAIL" and fp32["curve"]["worst_step"] == 5
    assert abs(fp32["curve"]["max_rel"] - 1e-3) < 1e-5
    assert fp32["cpu_resume"]["ok"] and fp32["round_trip"]["identical"]  # steps 11-20 untouched
    assert runs["mlp", "bf16"]["status"] == "PASS"
    overflow = runs["mlp_overflow", "fp16"]
    assert overflow["status"] == "FAIL"
    assert "step 6: finite True (reference False)" in overflow["curve"]["problems"]
    assert "mlp           fp32  FAIL" in text


def test_compare_curves():
    ref = [{"step": 1, "loss": 2.0, "loss_scale": 65536, "skipped": 1, "finite": False},
           {"step": 2, "loss": None, "loss_scale": 32768, "skipped": 2, "finite": False},
           {"step": 3, "loss": 1.0, "loss_scale": 16384, "skipped": 2, "finite": True},
           {"step": 3, "eval_loss": 0.5, "eval_accuracy": 1.0, "eval_rows": 8}]
    same = compare_curves(ref, ref, 1e-4)
    assert same["ok"] and same["max_rel"] == 0 and same["steps"] == 3
    close = [dict(e) for e in ref]
    close[2]["loss"] = 1.00005
    r = compare_curves(close, ref, 1e-4)
    assert r["ok"] and r["worst_step"] == 3 and abs(r["max_rel"] - 5e-5) < 1e-12
    nan = [dict(e) for e in ref]
    nan[0]["loss"] = None
    r = compare_curves(nan, ref, 1e-4)
    assert not r["ok"] and r["max_rel"] == float("inf") and r["worst_step"] == 1
    scale = [dict(e) for e in ref]
    scale[2]["loss_scale"] = 32768
    assert compare_curves(scale, ref, 1e-4)["problems"] == ["step 3: loss_scale 32768 (reference 16384)"]
    r = compare_curves(ref[:2], ref, 1e-4)
    assert not r["ok"] and r["problems"] == ["step 3: missing"]
    r = compare_curves(ref, ref[:2], 1e-4)
    assert not r["ok"] and r["problems"] == ["steps the reference lacks: [3]"]
    assert not compare_curves(ref, [], 1e-4)["ok"]


def test_throughput_step_runs_the_trainer_and_reports_pytorch_absent(tmp_path):
    """The throughput step (gpu_check.py "throughput") on a CPU-built throughput trainer of the
    MLP: weights and data from its --manifest, a samples/s figure from its progress lines; the
    PyTorch side, without CUDA (or torch) here, records its error instead of a figure."""
    if not (BUILD_DIR / "bin" / "mpc-compile").exists():
        pytest.skip("mpc-compile not built")
    out = tmp_path / "b"
    proc = subprocess.run([sys.executable, ROOT / "scripts" / "gpu_bundle.py", out, "--only", "mlp",
                           "--parts", "throughput", "--training-target", "cpu"], capture_output=True, text=True,
                          timeout=600, env={**os.environ, "MPC_BUILD_DIR": str(BUILD_DIR),
                                            "MPC_CUDA_RUNTIME_BUILD": str(BUILD_DIR)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    meta = json.loads((out / "bundle.json").read_text())
    assert [(t["name"], t["batch"]) for t in meta["throughput"]] == [("mlp", 32)]
    summary, text = check(out, tmp_path / "log", steps="throughput")
    mpc = [e for e in summary["throughput"] if e["impl"] == "mpc"]
    assert len(mpc) == 1 and mpc[0]["samples_per_s"] > 0 and mpc[0]["over"] == "steps 21-30", mpc
    assert len(mpc[0]["losses"]) == 3 and all(isinstance(x, float) for x in mpc[0]["losses"]), mpc
    torch_runs = [e for e in summary["throughput"] if e["impl"] != "mpc"]
    assert torch_runs and all("error" in e or "samples_per_s" in e for e in torch_runs), torch_runs
    assert "training throughput, bf16" in text and "mlp         b32   mpc" in text
