#!/usr/bin/env python3
"""The project's one check on a GPU machine (docs/gpu-check.md).

    python3 scripts/gpu_check.py BUNDLE LOGDIR [--budget SECONDS] [--steps a,b]

BUNDLE is what scripts/gpu-bundle.sh built on a build machine (CUDA runners,
kernel reports, inputs, CPU-target references, ONNX models where they fit).
Runs, each step time-boxed, each failure logged and skipped past:

 1. the GPU and driver (nvidia-smi), python/torch/onnxruntime versions;
 2. mpc-cuda-probe --selftest (a kernel launch, mpc_cuda_matmul cases);
 3. per model and precision: the runner's outputs against onnxruntime (fp32,
    1e-4) and against the CPU target's (bf16/fp16: docs/numerics.md bounds),
    with MPC_CUDA_PROFILE on;
 4. per generated kernel: achieved DRAM bandwidth (kernel report bytes over
    profiled time) as a fraction of the GPU's peak;
    training: each CUDA trainer's 20-step loss curve against the CPU trainer's
    (fp32 1e-4 relative per step; bf16/fp16 the bound docs/gpu-check.md
    gives; the same skipped steps with fp16 dynamic loss scaling), a
    checkpoint round trip (20 + resume to 30 = 30 straight), the CPU
    trainer's step-10 checkpoint resumed on the GPU, and steps/s;
 5. mpc-cuda-probe --bench-gemm (cuBLASLt TFLOP/s) and --bench-conv (cuDNN
    TFLOP/s on ResNet-50's convolutions); convolutions through cuDNN against
    im2col + cuBLASLt (mpc-compile --cuda-conv): the CNN's and ResNet-18's fp32
    cudnn runners against onnxruntime, and both runners' latencies side by
    side (those models and ResNet-50 fp32 at batch 32);
 6. forward latency at batch 32 bf16 of ResNet-50 and a BERT-base-style
    encoder: the mpc runner (--iterations) against PyTorch eager fp32,
    eager autocast bf16 and torch.compile (when time is left).

--steps training,gemm,... runs only those steps (the environment always;
names: bundle selftest numerics training gemm convolutions latency).

Writes LOGDIR/summary.json, LOGDIR/summary.txt and one log per step. Without
a GPU (a dry run on a build machine) every GPU step fails with the runner's
one-line "no CUDA driver" message and everything else still runs.

Only the standard library, numpy, onnxruntime and torch (each optional).
The helpers at the top (deterministic weights, safetensors, .npy checks) are
also imported by scripts/gpu_bundle.py.
"""
import argparse
import hashlib
import json
import math
import os
import pathlib
import platform
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import traceback
import zlib

try:
    import numpy as np
except ImportError:  # the summary still gets written
    np = None

REPO = pathlib.Path(__file__).resolve().parents[1]

# Peak DRAM bandwidth by GPU name (nvidia-smi's), bytes/s; first match wins.
PEAK_BANDWIDTH = [
    ("H200", 4.8e12, "H200: 4.8 TB/s HBM3e"),
    ("H100 PCIe", 2.0e12, "H100 PCIe: 2.0 TB/s HBM2e"),
    ("H100 NVL", 3.9e12, "H100 NVL: 3.9 TB/s HBM3"),
    ("H100", 3.35e12, "H100 SXM: 3.35 TB/s HBM3"),
    ("A100", 2.0e12, "A100 80GB SXM: 2.0 TB/s (40GB: 1.55 TB/s)"),
]
DEFAULT_PEAK = (3.35e12, "unknown GPU: assuming H100 SXM's 3.35 TB/s")


# ---------------------------------------------------------------------------
# Deterministic weights: the same values here and on the build machine
# (uint64 hashing of the element index: no dependence on numpy's generators),
# uniform with a given mean and standard deviation per tensor.
# ---------------------------------------------------------------------------

def _mix64(z):
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def deterministic_tensor(name, shape, mean, std, seed=0):
    """f32 values, uniform with the given mean and std, a function of the
    tensor's name, shape and seed only."""
    n = int(np.prod(shape, dtype=np.int64)) if len(shape) else 1
    key = (zlib.crc32(name.encode()) + (seed << 32)) & 0xFFFFFFFFFFFFFFFF
    out = np.empty(n, np.float32)
    chunk = 1 << 22
    with np.errstate(over="ignore"):
        for start in range(0, n, chunk):
            i = np.arange(start, min(n, start + chunk), dtype=np.uint64)
            z = _mix64(i * np.uint64(0x9E3779B97F4A7C15) + np.uint64(key))
            u = (z >> np.uint64(40)).astype(np.float64) * (1.0 / (1 << 24))
            out[start:start + len(i)] = mean + std * math.sqrt(3.0) * (2.0 * u - 1.0)
    return out.reshape(shape)


def tensor_stats(array):
    a = np.asarray(array, np.float64)
    return {"mean": float(a.mean()) if a.size else 0.0, "std": float(a.std()) if a.size else 0.0}


def generated_weights(specs, seed=0):
    """{name: f32 array} for [{"name", "shape", "mean", "std"}], and the
    sha256 of their bytes in order (to check that both machines agree)."""
    digest = hashlib.sha256()
    out = {}
    for s in specs:
        t = deterministic_tensor(s["name"], s["shape"], s["mean"], s["std"], seed)
        digest.update(t.tobytes())
        out[s["name"]] = t
    return out, digest.hexdigest()


SAFETENSORS_DTYPES = {"float32": "F32", "float16": "F16", "float64": "F64", "int64": "I64",
                      "int32": "I32", "int8": "I8", "uint8": "U8", "bool": "BOOL"}


def write_safetensors(path, tensors):
    """tensors: {name: numpy array} (C order, little-endian) -> a .safetensors file."""
    header, offset = {}, 0
    arrays = []
    for name, a in tensors.items():
        a = np.ascontiguousarray(a)
        dtype = SAFETENSORS_DTYPES.get(a.dtype.name)
        if dtype is None:
            raise ValueError(f"{name}: dtype {a.dtype} has no safetensors name here")
        header[name] = {"dtype": dtype, "shape": list(a.shape),
                        "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
        arrays.append(a)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for a in arrays:
            f.write(a.tobytes())


def read_safetensors_header(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        return json.loads(f.read(n))


MANIFEST_NUMPY = {"f32": "float32", "f16": "float16", "f64": "float64", "bf16": "float32",
                  "i64": "int64", "i32": "int32", "i8": "int8", "i1": "bool", "u8": "uint8"}


def weights_for_manifest(manifest, stats, seed=0):
    """The state a --weights external runner needs, from its --manifest:
    every "param" arg, f32 (the runner narrows f32 to a bf16/f16 state when
    the ONNX initializer was f32), values from `stats` ({name: {mean, std}})
    or mean 0 / std 0.02."""
    specs, others = [], {}
    for arg in manifest["eval"]["args"]:
        if arg.get("role") == "input":
            continue
        dtype = arg["dtype"]
        if dtype in ("f32", "f16", "bf16", "f64"):
            st = stats.get(arg["name"], {"mean": 0.0, "std": 0.02})
            specs.append({"name": arg["name"], "shape": arg["shape"], **st})
        else:
            others[arg["name"]] = np.zeros(arg["shape"], MANIFEST_NUMPY.get(dtype, "float32"))
    tensors, digest = generated_weights(specs, seed)
    tensors.update(others)
    return tensors, digest


# ---------------------------------------------------------------------------
# Comparisons
# ---------------------------------------------------------------------------

def normalized_error(actual, expected):
    """max |a - e| / max |e| (docs/numerics.md's tensor-scale measure)."""
    a = np.asarray(actual, np.float64)
    e = np.asarray(expected, np.float64)
    if e.size == 0:
        return 0.0
    scale = max(float(np.max(np.abs(e))), 1e-30)
    return float(np.max(np.abs(a - e))) / scale


def fp32_check(actual, expected, rtol=1e-4, atol_scale=1e-5):
    """np.testing.assert_allclose(rtol, atol = atol_scale * max|e|) as a
    verdict: (ok, worst |a-e| / (atol + rtol |e|), normalized error)."""
    a = np.asarray(actual, np.float64)
    e = np.asarray(expected, np.float64)
    if a.shape != e.shape:
        return False, float("inf"), float("inf")
    if e.size == 0:
        return True, 0.0, 0.0
    if not np.all(np.isfinite(a)):
        return False, float("inf"), float("inf")
    atol = atol_scale * float(np.max(np.abs(e)))
    ratio = float(np.max(np.abs(a - e) / (atol + rtol * np.abs(e) + 1e-300)))
    return ratio <= 1.0, ratio, normalized_error(a, e)


def compare_outputs(outputs, reference, mode, tolerance):
    """outputs/reference: {name: array}. mode "fp32": fp32_check per output;
    "normalized": max normalized error <= tolerance. Returns a dict."""
    result = {"ok": True, "outputs": {}}
    for name, ref in reference.items():
        got = outputs.get(name)
        if got is None:
            result["ok"] = False
            result["outputs"][name] = {"error": "missing"}
            continue
        if got.shape != ref.shape:
            result["ok"] = False
            result["outputs"][name] = {"error": f"shape {list(got.shape)} != {list(ref.shape)}"}
            continue
        if mode == "fp32":
            ok, ratio, err = fp32_check(got, ref, rtol=tolerance)
            result["outputs"][name] = {"normalized_error": err, "allclose_ratio": ratio, "ok": ok}
        else:
            err = normalized_error(got, ref) if np.all(np.isfinite(got)) else float("inf")
            ok = err <= tolerance
            result["outputs"][name] = {"normalized_error": err, "ok": ok}
        result["ok"] &= ok
    result["worst"] = max((o.get("normalized_error", float("inf"))
                           for o in result["outputs"].values()), default=0.0)
    return result


def load_npy_dir(directory):
    d = pathlib.Path(directory)
    return {p.stem: np.load(p) for p in sorted(d.glob("*.npy"))} if d.is_dir() else {}


# ---------------------------------------------------------------------------
# Running things under a deadline
# ---------------------------------------------------------------------------

class Budget:
    def __init__(self, seconds):
        self.end = time.monotonic() + seconds

    def left(self):
        return self.end - time.monotonic()

    def box(self, want, reserve=0.0):
        """A timeout of at most `want`, leaving `reserve` seconds of the budget."""
        return max(0.0, min(want, self.left() - reserve))


class Log:
    def __init__(self, logdir):
        self.dir = pathlib.Path(logdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.main = open(self.dir / "gpu-check.log", "a")

    def say(self, text=""):
        print(text, flush=True)
        self.main.write(text + "\n")
        self.main.flush()


def run(cmd, log, name, timeout, env=None, cwd=None, echo=True):
    """Runs cmd (a list) with a timeout; writes LOGDIR/<name>.log. Returns
    (rc, stdout, stderr, seconds); rc None on timeout, -1 when not startable."""
    start = time.monotonic()
    if timeout <= 1:
        out, err, rc = "", "skipped: no time left in the budget", None
    else:
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        try:
            p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                               timeout=timeout, env=full_env, cwd=cwd, errors="replace")
            out, err, rc = p.stdout, p.stderr, p.returncode
        except subprocess.TimeoutExpired as e:
            out = (e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else e.stdout) or ""
            err = ((e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else e.stderr)
                   or "") + f"\ntimed out after {timeout:.0f} s"
            rc = None
        except OSError as e:
            out, err, rc = "", f"cannot run: {e}", -1
    seconds = time.monotonic() - start
    with open(log.dir / f"{name}.log", "a") as f:
        f.write(f"$ {' '.join(map(str, cmd))}\n# rc={rc} {seconds:.1f}s\n{out}\n--- stderr ---\n{err}\n")
    if echo:
        tail = (err.strip().splitlines() or [""])[-1] if rc != 0 else ""
        log.say(f"  [{name}] rc={rc} {seconds:.1f}s{'  ' + tail if tail else ''}")
    return rc, out, err, seconds


def first_error_line(err, out=""):
    for line in (err or "").splitlines()[::-1] + (out or "").splitlines()[::-1]:
        if "error" in line.lower() or "timed out" in line or "skipped" in line:
            return line.strip()
    lines = (err or out or "").strip().splitlines()
    return lines[-1].strip() if lines else ""


PROGRESS_RE = re.compile(r"^step (\d+)/(\d+) .*samples/s ([0-9.eE+-]+|inf|nan)\s*$", re.M)
# The CUDA runtime's exit line under MPC_CUDA_MEMORY_STATS=1 (docs/cuda-runtime.md).
MEMORY_RE = re.compile(r"^mpc: GPU memory: peak (\d+) bytes", re.M)
THROUGHPUT_STEPS = 30
THROUGHPUT_COMPILED = "bert_base"  # the model torch.compile is measured on


def trainer_weights(manifest, seed=0):
    """The parameters and buffers a --weights external trainer needs, from its --manifest: f32,
    mean 0 / std 0.02, but running variances (`running_var`) 1 (throughput does not depend on
    values; finite, well-scaled ones keep the steps from being skipped)."""
    specs, fixed = [], {}
    for arg in manifest["train"]["args"]:
        if not arg.get("external"):
            continue
        if arg["name"].endswith("running_var"):
            fixed[arg["name"]] = np.ones(arg["shape"], np.float32)
        else:
            specs.append({"name": arg["name"], "shape": arg["shape"], "mean": 0.0, "std": 0.02})
    tensors, _ = generated_weights(specs, seed)
    tensors.update(fixed)
    return tensors


def throughput_lines(entries):
    """The summary's throughput table: per model, mpc's samples/s and peak memory beside each
    PyTorch run's, with their ratios (mpc / PyTorch)."""
    lines = ["training throughput, bf16 (samples/s; peak GPU memory GiB; ratio = mpc / PyTorch):"]
    by_model = {}
    for e in entries:
        by_model.setdefault((e["model"], e.get("batch")), []).append(e)
    for (model, batch), runs in by_model.items():
        mpc = next((r for r in runs if r.get("impl") == "mpc" and "samples_per_s" in r), None)
        for r in runs:
            what = f"  {model:<11} b{batch:<4} {r.get('impl', '?'):<24}"
            if "samples_per_s" not in r:
                lines.append(f"{what} FAIL {str(r.get('error'))[:100]}")
                continue
            mem = r.get("peak_memory_bytes")
            cell = f"{what} {r['samples_per_s']:10.1f}  {mem / 2**30 if mem else float('nan'):6.2f} GiB"
            if mpc and r is not mpc:
                cell += f"   mpc x{mpc['samples_per_s'] / r['samples_per_s']:.2f}"
                if mem and mpc.get("peak_memory_bytes"):
                    cell += f", memory x{mpc['peak_memory_bytes'] / mem:.2f}"
            lines.append(cell)
    if not entries:
        lines.append("  (none run)")
    return lines


def read_jsonl(path):
    p = pathlib.Path(path)
    return [json.loads(line) for line in p.read_text().splitlines() if line.strip()] if p.exists() else []


def step_entries(log):
    """The per-step lines of a trainer's log (docs/trainer.md, "Output"), not the eval lines."""
    return [e for e in log if "step" in e and "finite" in e]


def compare_curves(got, ref, tolerance):
    """Two trainers' logs, step by step (lists of log entries; only the steps `ref` has): the same
    steps, finite flags, skipped counts and loss scales, and |loss - ref| / |ref| <= tolerance
    (a non-finite loss, null in the log, only where the reference's is). Returns a dict: ok,
    max_rel (the worst step's relative difference), worst_step, steps, problems (the first few)."""
    got = {e["step"]: e for e in step_entries(got)}
    ref = step_entries(ref)
    out = {"ok": True, "max_rel": 0.0, "worst_step": None, "steps": len(ref), "problems": []}

    def problem(text):
        out["ok"] = False
        if len(out["problems"]) < 5:
            out["problems"].append(text)

    if not ref:
        problem("the reference log has no steps")
    for r in ref:
        g = got.get(r["step"])
        if g is None:
            problem(f"step {r['step']}: missing")
            out["max_rel"], out["worst_step"] = float("inf"), r["step"]
            continue
        for key in ("finite", "skipped", "loss_scale"):
            if g.get(key) != r.get(key):
                problem(f"step {r['step']}: {key} {g.get(key)} (reference {r.get(key)})")
        a, b = g.get("loss"), r.get("loss")
        if a is None or b is None:
            rel = 0.0 if a is None and b is None else float("inf")
        else:
            rel = abs(a - b) / max(abs(b), 1e-30)
        if out["worst_step"] is None or rel > out["max_rel"]:
            out["max_rel"], out["worst_step"] = rel, r["step"]
        if not rel <= tolerance:
            problem(f"step {r['step']}: loss {a} vs {b} (relative {rel:.3g} > {tolerance})")
    extra = sorted(set(got) - {r["step"] for r in ref})
    if extra:
        problem(f"steps the reference lacks: {extra[:5]}")
    return out


def checkpoint_tensors(path):
    """{name: float64 array} of a trainer's safetensors checkpoint (float tensors only)."""
    raw = pathlib.Path(path).read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    body = raw[8 + n:]
    dtypes = {"F32": "<f4", "F16": "<f2", "F64": "<f8"}
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        if info["dtype"] in dtypes:
            a = np.frombuffer(body[begin:end], dtypes[info["dtype"]])
        elif info["dtype"] == "BF16":
            a = (np.frombuffer(body[begin:end], "<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            continue
        out[name] = a.astype(np.float64).reshape(info["shape"])
    return out


def compare_checkpoints(got, ref):
    """The worst normalized error (max|a - r| / max|r|) over the state tensors both hold, and its tensor."""
    a, r = checkpoint_tensors(got), checkpoint_tensors(ref)
    worst, where = 0.0, None
    for name in sorted(set(a) & set(r)):
        err = normalized_error(a[name], r[name]) if np.all(np.isfinite(a[name])) else float("inf")
        if err >= worst:
            worst, where = err, name
    return {"max_normalized_error": worst, "tensor": where, "tensors": len(set(a) & set(r)),
            "missing": sorted(set(r) - set(a))[:5]}


def training_line(e):
    """One row of the training table (log and summary.txt)."""
    def rel(key):
        r = e.get(key)
        return f"{r['max_rel']:.3g}" if r else "-"
    trip = e.get("round_trip")
    trip_text = "-" if not trip else ("identical" if trip["identical"] else
                                      f"differs ({trip.get('max_rel', float('inf')):.3g})")
    curve = e.get("curve")
    sps = f"{e['steps_per_s']:.1f}" if "steps_per_s" in e else "-"
    note = e.get("error") or ""
    for key in ("curve", "cpu_resume", "vs_cpu_fp32"):
        if not note and e.get(key, {}).get("problems"):
            note = f"{key}: {e[key]['problems'][0]}"
    if not note and e.get("skipped"):
        note = f"skipped steps {e['skipped']} (as the CPU trainer)"
    return (f"{e['model']:<13} {e['precision']:<5} {e.get('status', '?'):<9} {rel('curve'):>9} "
            f"{rel('vs_cpu_fp32'):>9} {trip_text:>16} {rel('cpu_resume'):>9} {sps:>9}  {note[:90]}")


TRAINING_HEADER = (f"{'model':<13} {'prec':<5} {'status':<9} {'curve':>9} {'vs fp32':>9} {'round trip':>16} "
                   f"{'CPU->dev':>9} {'steps/s':>9}  note")


LATENCY_RE = re.compile(r"latency_ms mean ([0-9.eE+-]+) median ([0-9.eE+-]+) min ([0-9.eE+-]+) "
                        r"max ([0-9.eE+-]+)")


# ---------------------------------------------------------------------------
# The steps
# ---------------------------------------------------------------------------

class Check:
    def __init__(self, bundle, logdir, budget_s):
        self.bundle = pathlib.Path(bundle).resolve()
        self.log = Log(logdir)
        self.logdir = self.log.dir.resolve()
        # Generated weights (hundreds of MB) and outputs: not under LOGDIR,
        # which may be the folder that is copied back; removed at the end.
        self.work = pathlib.Path(tempfile.mkdtemp(prefix="mpc-gpu-check-",
                                                  dir=os.environ.get("GPU_CHECK_WORK")))
        self.budget = Budget(budget_s)
        self.summary = {"bundle": str(self.bundle), "started": time.strftime("%Y-%m-%d %H:%M:%S"),
                        "environment": {}, "steps": {}, "numerics": [], "bandwidth": [],
                        "gemm": [], "latency": [], "training": [], "throughput": [], "notes": []}
        self.meta = json.loads((self.bundle / "bundle.json").read_text())
        self.probe = self.bundle / "bin" / "mpc-cuda-probe"
        self.gpu_name = ""
        self.peak = DEFAULT_PEAK
        self.gpu_ok = False
        self.ort_cache = {}
        self.lib_env = {}

    def step(self, name, fn):
        self.log.say(f"\n== {name} ({self.budget.left():.0f} s of budget left)")
        start = time.monotonic()
        try:
            fn()
            status = "done"
        except Exception as e:  # log and go on
            status = f"failed: {type(e).__name__}: {e}"
            self.log.say(f"  step failed: {status}")
            with open(self.logdir / "tracebacks.log", "a") as f:
                f.write(f"--- {name}\n{traceback.format_exc()}\n")
        self.summary["steps"][name] = {"status": status, "seconds": round(time.monotonic() - start, 1)}

    # 1 ----------------------------------------------------------------------
    def environment(self):
        env = self.summary["environment"]
        rc, out, err, _ = run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total,"
                               "clocks.max.sm,clocks.max.mem,power.limit", "--format=csv,noheader"],
                              self.log, "nvidia-smi", self.budget.box(20))
        if rc == 0 and out.strip():
            env["nvidia_smi"] = out.strip()
            self.gpu_name = out.split(",")[0].strip()
            self.log.say(f"  GPU: {out.strip()}")
        else:
            env["nvidia_smi"] = f"unavailable: {first_error_line(err, out)}"
            self.log.say(f"  nvidia-smi: {env['nvidia_smi']}")
        run(["nvidia-smi"], self.log, "nvidia-smi-full", self.budget.box(20), echo=False)
        for gpu, peak, text in PEAK_BANDWIDTH:
            if gpu in self.gpu_name:
                self.peak = (peak, text)
                break
        env["peak_bandwidth_assumed"] = self.peak[1]
        self.log.say(f"  peak DRAM bandwidth assumed: {self.peak[1]}")
        env["python"] = sys.version.split()[0]
        env["platform"] = platform.platform()
        env["glibc"] = " ".join(platform.libc_ver())
        env["numpy"] = np.__version__ if np else "missing"
        versions = {}
        for module in ("torch", "onnxruntime", "ml_dtypes", "torchvision"):
            try:
                versions[module] = __import__(module).__version__
            except Exception as e:
                versions[module] = f"missing ({type(e).__name__})"
        env.update(versions)
        try:
            import onnxruntime as ort
            env["onnxruntime_providers"] = ort.get_available_providers()
        except Exception:
            pass
        try:
            import torch
            env["torch_cuda"] = torch.version.cuda
            env["torch_cuda_available"] = torch.cuda.is_available()
            if torch.cuda.is_available():
                env["torch_device"] = torch.cuda.get_device_name(0)
        except Exception:
            pass
        for k in ("python", "platform", "glibc", "numpy", "torch", "torchvision", "onnxruntime",
                  "onnxruntime_providers", "torch_cuda", "torch_cuda_available"):
            self.log.say(f"  {k}: {env.get(k)}")
        # Where the runners will find cuBLASLt: the probe's search covers the
        # pip wheels; name them for the log.
        wheels = []
        for site in sys.path:
            for sub in ("nvidia/cublas/lib", "nvidia/cu13/lib", "nvidia/cudnn/lib"):
                p = pathlib.Path(site) / sub
                if p.is_dir():
                    wheels.append(str(p))
        env["nvidia_wheel_dirs"] = wheels
        self.log.say(f"  NVIDIA wheel folders: {wheels or 'none found'}")
        self.lib_env = {}
        if wheels:
            self.lib_env["MPC_CUDA_LIB_PATH"] = ":".join(wheels)

    # 2 ----------------------------------------------------------------------
    def selftest(self):
        rc, out, err, _ = run([self.probe, "--selftest"], self.log, "probe-selftest",
                              self.budget.box(60), env=self.lib_env)
        fails = [l for l in out.splitlines() if l.startswith("FAIL")]
        passes = [l for l in out.splitlines() if l.startswith("PASS")]
        self.gpu_ok = rc == 0
        entry = {"check": "mpc-cuda-probe --selftest", "ok": rc == 0, "passed": len(passes),
                 "failed": fails, "device": out.splitlines()[0] if rc == 0 and out else None,
                 "error": None if rc == 0 else first_error_line(err, out)}
        self.summary["selftest"] = entry
        for line in out.splitlines():
            self.log.say(f"  {line}")
        if rc != 0:
            self.log.say(f"  selftest FAILED: {entry['error']}")

    # 3 ----------------------------------------------------------------------
    def onnxruntime_reference(self, model, inputs_np):
        """Outputs of onnxruntime there (CUDA provider without TF32 when
        available, else CPU; graph optimizations off), or None."""
        try:
            import onnxruntime as ort
        except ImportError:
            return None, "onnxruntime missing"
        path = self.model_onnx_path(model)
        if path is None:
            return None, "no ONNX model in the bundle (too big); the build machine's onnxruntime output is used"
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        providers = ["CPUExecutionProvider"]
        if "CUDAExecutionProvider" in ort.get_available_providers():
            providers = [("CUDAExecutionProvider", {"use_tf32": 0}), "CPUExecutionProvider"]
        try:
            session = ort.InferenceSession(str(path), options, providers=providers)
        except Exception as e:
            if providers[0] == "CPUExecutionProvider":
                return None, f"onnxruntime: {e}"
            session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        names = [o.name for o in session.get_outputs()]
        outs = session.run(names, inputs_np)
        return dict(zip(names, outs)), "+".join(session.get_providers()[:1])

    def model_onnx_path(self, model):
        """The model's ONNX there: shipped as is, or a graph whose float
        initializers are external data regenerated here."""
        if model.get("onnx"):
            return self.bundle / model["onnx"]
        skel = model.get("onnx_external")
        if not skel:
            return None
        target = self.work / model["name"]
        target.mkdir(exist_ok=True)
        onnx_path = target / pathlib.Path(skel["graph"]).name
        data_path = target / skel["data_file"]
        if not data_path.exists():
            tensors, digest = generated_weights(model["weights_regen"]["specs"])
            with open(data_path, "wb") as f:
                for entry in skel["tensors"]:
                    t = tensors[entry["name"]]
                    f.seek(entry["offset"])
                    f.write(t.astype("<f4").tobytes())
            shutil.copy(self.bundle / skel["graph"], onnx_path)
        return onnx_path

    def regen_weights_file(self, model, runner):
        """The --weights safetensors of a 'regen' model, written once here."""
        path = self.work / f"{model['name']}.weights.safetensors"
        if path.exists():
            return path, None
        regen = model["weights_regen"]
        rc, out, err, _ = run([runner, "--manifest"], self.log, f"manifest-{model['name']}",
                              self.budget.box(30), echo=False)
        if rc != 0:
            raise RuntimeError(f"{runner.name} --manifest failed: {first_error_line(err, out)}")
        manifest = json.loads(out)
        stats = {s["name"]: {"mean": s["mean"], "std": s["std"]} for s in regen["specs"]}
        tensors, digest = weights_for_manifest(manifest, stats)
        write_safetensors(path, tensors)
        note = None
        if regen.get("sha256") and digest != regen["sha256"]:
            note = ("regenerated weights differ from the build machine's (sha256 mismatch): "
                    "the CPU-target references do not apply")
        return path, note

    def numerics(self):
        for model in self.meta["models"]:
            if self.budget.left() < 150:
                self.log.say(f"  {model['name']}: skipped (budget)")
                self.summary["notes"].append(f"numerics of {model['name']} skipped: budget")
                continue
            self.numerics_model(model)

    def numerics_model(self, model, builds=None, tag=""):
        """Runs `builds` (default the model's) on the bundle's inputs; `tag` names them apart
        (runs, outputs, profiles) and goes into their summary entries as "conv"."""
        name = model["name"]
        base = self.bundle / model["dir"]
        inputs = {k: base / v for k, v in model["inputs"].items()}
        inputs_np = {k: np.load(v) for k, v in inputs.items()}
        ort_there, provider = self.ort_cache.get(name, (None, None))
        if ort_there is None and provider is None:
            try:
                ort_there, provider = self.onnxruntime_reference(model, inputs_np)
            except Exception as e:
                provider = f"onnxruntime failed: {type(e).__name__}: {e}"
        ort_here = load_npy_dir(base / "ref_onnxruntime_fp32")
        self.log.say(f"  {name}: onnxruntime there: {provider if ort_there is None else 'ran on ' + provider}")
        for prec, build in (builds or model["builds"]).items():
            entry = {"model": name, "precision": prec, "batch": model["batch"]}
            if tag:
                entry["conv"] = tag
            self.summary["numerics"].append(entry)
            if not build.get("runner"):
                entry.update(status="NOT BUILT", error=build.get("error", "?"))
                self.log.say(f"  {name} {prec}: NOT BUILT ({entry['error']})")
                continue
            runner = self.bundle / build["runner"]
            cmd = [runner]
            for k, v in inputs.items():
                cmd += ["--input", f"{k}={v}"]
            weights_note = None
            try:
                if model["weights"] == "onnx":
                    cmd += ["--weights", self.bundle / model["onnx"]]
                elif model["weights"] == "regen":
                    wpath, weights_note = self.regen_weights_file(model, runner)
                    cmd += ["--weights", wpath]
            except Exception as e:
                entry.update(status="FAIL", error=f"weights: {e}")
                self.log.say(f"  {name} {prec}: FAIL weights: {e}")
                continue
            label = f"{name}-{prec}" + (f"-{tag}" if tag else "")
            outdir = self.work / f"out-{label}"
            shutil.rmtree(outdir, ignore_errors=True)
            profile = self.logdir / f"profile-{label}.json"
            cmd += ["--output-dir", outdir]
            rc, out, err, secs = run(cmd, self.log, f"run-{label}", self.budget.box(90, 60),
                                     env={**self.lib_env, "MPC_CUDA_PROFILE": str(profile)})
            if rc != 0:
                entry.update(status="FAIL", error=first_error_line(err, out))
                self.log.say(f"  {name} {prec}: FAIL {entry['error']}")
                continue
            outputs = load_npy_dir(outdir)
            self.judge(entry, outputs, model, prec, ort_there, provider, ort_here, weights_note)
            if profile.exists():
                self.bandwidth(name, prec, base / build["kernel_report"], profile)
            if tag:
                self.time_runner(entry, cmd[:-2], label)

    def time_runner(self, entry, cmd, label):
        """The median forward time of a runner (20 iterations after 2 warm-up) into `entry`."""
        rc, out, err, _ = run(cmd + ["--iterations", "20", "--warmup", "2"], self.log,
                              f"latency-{label}", self.budget.box(60, 30), env=self.lib_env)
        m = LATENCY_RE.search(out)
        if rc != 0 or not m:
            entry["latency_error"] = first_error_line(err, out)
            return
        entry["median_ms"] = float(m[2])
        self.log.say(f"  {label}: median {entry['median_ms']:.3f} ms (20 iterations)")

    # training -----------------------------------------------------------------
    def training(self):
        """Each trainer of the bundle against the CPU trainer's run of the same model, flags and
        data (docs/gpu-check.md, "Training")."""
        entries = self.meta.get("training", [])
        if not entries:
            self.summary["notes"].append("training: the bundle has no trainers (built before they were added?)")
            self.log.say("  the bundle has no trainers")
            return
        for t in entries:
            if self.budget.left() < 90:
                self.log.say(f"  {t['name']} {t['precision']}: skipped (budget)")
                self.summary["notes"].append(f"training of {t['name']} {t['precision']} skipped: budget")
                continue
            self.train_one(t)

    def train_one(self, t):
        """Four runs of one trainer: 20 steps with a checkpoint (the curve against the CPU's), 30
        straight (steps/s), 20 resumed to 30 (the round trip), the CPU's step-10 checkpoint
        resumed to 20. The verdict and figures go into summary["training"]."""
        name, prec = t["name"], t["precision"]
        entry = {"model": name, "precision": prec, "batch": t["batch"], "target": t.get("target", "cuda"),
                 "tolerance": t["tolerance"], "what": t.get("what")}
        self.summary["training"].append(entry)
        if not t.get("trainer"):
            entry.update(status="NOT BUILT", error=t.get("error", "?"))
            self.log.say(f"  {name} {prec}: NOT BUILT ({entry['error']})")
            return
        work = self.work / f"train-{name}-{prec}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        cmd = [self.bundle / t["trainer"]]
        for k, v in t["data"].items():
            cmd += ["--data", f"{k}={self.bundle / v}"]
        cmd += t.get("run_flags", [])
        steps, more = t["steps"], t["resume_steps"]
        tol = t["tolerance"]
        verdicts = []

        def train(tag, *flags):
            rc, out, err, secs = run(cmd + [str(f) for f in flags], self.log, f"train-{name}-{prec}-{tag}",
                                     self.budget.box(60, 45), env=self.lib_env)
            if rc != 0:
                raise RuntimeError(f"{tag} run: {first_error_line(err, out)}")
            return out, secs

        ref = read_jsonl(self.bundle / t["ref_log"])
        try:
            # 1. The loss curve (and the final state) against the CPU trainer's.
            first, checkpoint = work / "first.jsonl", work / f"step{steps}.safetensors"
            train("curve", "--steps", steps, "--log", first, "--checkpoint", checkpoint)
            got = read_jsonl(first)
            entry["curve"] = compare_curves(got, ref, tol)
            verdicts.append(entry["curve"]["ok"])
            entry["skipped"] = [e["step"] for e in step_entries(got) if e.get("finite") is False]
            if t.get("ref_log_fp32"):
                entry["vs_cpu_fp32"] = compare_curves(got, read_jsonl(self.bundle / t["ref_log_fp32"]), tol)
                # loss_scale/skipped are those of the same precision; against fp32 only the losses
                verdicts.append(entry["vs_cpu_fp32"]["max_rel"] <= tol)
            entry["weights_vs_cpu"] = compare_checkpoints(checkpoint, self.bundle / t["ref_checkpoint"])
            # 2. Straight to `more` steps: the steps/s of its last progress interval.
            straight = work / "straight.jsonl"
            out, secs = train("straight", "--steps", more, "--log", straight)
            progress = PROGRESS_RE.findall(out)
            if progress:
                entry["steps_per_s"] = float(progress[-1][2]) / t["batch"]
                entry["steps_per_s_over"] = f"steps {int(progress[-2][0]) + 1 if len(progress) > 1 else 1}" \
                                            f"-{progress[-1][0]}"
            entry["straight_run_s"] = round(secs, 2)
            # 3. The round trip: the first run's checkpoint resumed to `more` steps.
            rest = work / "rest.jsonl"
            train("resume", "--steps", more, "--resume", checkpoint, "--log", rest)
            joined, whole = first.read_bytes() + rest.read_bytes(), straight.read_bytes()
            trip = {"identical": joined == whole}
            if not trip["identical"]:
                lines = joined.decode().splitlines()
                trip["first_difference"] = next(
                    (f"line {i + 1}: {a} | {b}" for i, (a, b) in enumerate(zip(lines, whole.decode().splitlines()))
                     if a != b), f"{len(lines)} lines against {len(whole.decode().splitlines())}")
                curve = compare_curves([json.loads(x) for x in lines if x.strip()], read_jsonl(straight), tol)
                trip["max_rel"] = curve["max_rel"]
                # Not bit-reproducible by design (docs/cuda.md): within the curve's bound.
                trip["ok"] = not t.get("deterministic", True) and curve["ok"]
            else:
                trip["ok"] = True
            entry["round_trip"] = trip
            verdicts.append(trip["ok"])
            # 4. The CPU trainer's checkpoint after `cpu_checkpoint_step` steps, resumed here.
            resumed = work / "cpu-resume.jsonl"
            train("cpu-resume", "--steps", steps, "--resume", self.bundle / t["ref_checkpoint_resume"],
                  "--log", resumed)
            after = [e for e in ref if e.get("step", 0) > t["cpu_checkpoint_step"]]
            entry["cpu_resume"] = compare_curves(read_jsonl(resumed), after, tol)
            verdicts.append(entry["cpu_resume"]["ok"])
        except Exception as e:
            entry["error"] = str(e)
            verdicts.append(False)
        entry["status"] = "PASS" if verdicts and all(verdicts) else "FAIL"
        self.log.say("  " + training_line(entry))
        for key in ("curve", "vs_cpu_fp32", "cpu_resume"):
            for text in entry.get(key, {}).get("problems", [])[:2]:
                self.log.say(f"      {key}: {text}")

    # 5 ----------------------------------------------------------------------
    def convolutions(self):
        """cuDNN against im2col + cuBLASLt: cuDNN's TFLOP/s per ResNet-50 shape, then the same
        models built both ways, their outputs against onnxruntime and their latencies."""
        out_json = self.logdir / "bench-conv.json"
        rc, out, err, _ = run([self.probe, "--bench-conv", "--iterations", "10", "--json", out_json],
                              self.log, "bench-conv", self.budget.box(90, 30), env=self.lib_env)
        for line in out.splitlines():
            self.log.say(f"  {line}")
        if rc == 0 and out_json.exists():
            self.summary["conv_bench"] = json.loads(out_json.read_text())["results"]
        else:
            self.summary["conv_bench"] = [{"error": first_error_line(err, out)}]
        for model in self.meta["models"]:
            for prec, builds in model.get("conv_builds", {}).items():
                for conv, build in builds.items():
                    if self.budget.left() < 60:
                        self.summary["notes"].append(f"{model['name']} --cuda-conv={conv}: skipped (budget)")
                        continue
                    self.numerics_model(model, {prec: build}, conv)
        for model in self.meta.get("conv_latency", []):
            if self.budget.left() < 60:
                self.summary["notes"].append(f"latency of {model['name']} {model.get('conv')}: skipped (budget)")
                continue
            self.latency_mpc(model)

    def judge(self, entry, outputs, model, prec, ort_there, provider, ort_here, weights_note):
        """PASS/FAIL of one run's outputs (also used by the dry run)."""
        name = model["name"]
        base = self.bundle / model["dir"]
        verdicts = []
        label, prec = prec, prec.split("+")[0]  # "bf16+cudnn": bf16 built another way
        if prec == "fp32":
            tol = model["tolerance"]["fp32"]
            if ort_there is not None:
                r = compare_outputs(outputs, ort_there, "fp32", tol)
                entry["vs_onnxruntime_there"] = {**r, "provider": provider}
                verdicts.append(r["ok"])
            r = compare_outputs(outputs, ort_here, "fp32", tol)
            entry["vs_onnxruntime_build_machine"] = r
            verdicts.append(r["ok"])
            entry["criterion"] = f"allclose rtol {tol}, atol 1e-5 * max|ref| (onnxruntime fp32)"
        else:
            tol = model["tolerance"][prec]
            cpu = load_npy_dir(base / f"ref_cpu_{prec}")
            if weights_note:
                entry["note"] = weights_note
            else:
                r = compare_outputs(outputs, cpu, "normalized", tol)
                entry["vs_cpu_target"] = r
                verdicts.append(r["ok"])
            fp32_ref = ort_there if ort_there is not None else ort_here
            r = compare_outputs(outputs, fp32_ref, "normalized", tol)
            entry["vs_fp32"] = r
            verdicts.append(r["ok"])
            # The low-precision program must not be fp32 in disguise, except
            # where the CPU target itself computes it in f32 (gpt2 fp16).
            if model.get("low_precision_differs", {}).get(prec, True):
                identical = all(np.array_equal(outputs.get(k), v) for k, v in fp32_ref.items())
                entry["identical_to_fp32"] = identical
            entry["criterion"] = (f"max|out - ref| / max|ref| <= {tol} against the CPU target's "
                                  f"{prec} and against fp32 (docs/numerics.md)")
        entry["status"] = "PASS" if verdicts and all(verdicts) else "FAIL"
        worst = {k: v["worst"] for k, v in entry.items() if isinstance(v, dict) and "worst" in v}
        self.log.say(f"  {name} {label}: {entry['status']}  " +
                     "  ".join(f"{k} {v:.3g}" for k, v in worst.items()))

    # 4 ----------------------------------------------------------------------
    def bandwidth(self, model, prec, report_path, profile_path):
        report = json.loads(pathlib.Path(report_path).read_text())
        profile = json.loads(pathlib.Path(profile_path).read_text())
        times = {e["name"]: e for e in profile.get("entries", [])}
        peak = self.peak[0]
        rows = []
        for k in report.get("kernels", []):
            if k.get("strategy") == "cublaslt-gemm":
                continue
            t = times.get(k["name"])
            if not t or t["mean_us"] <= 0:
                continue
            moved = k.get("bytes_read", 0) + k.get("bytes_written", 0)
            bw = moved / (t["mean_us"] * 1e-6)
            rows.append({"model": model, "precision": prec, "kernel": k["name"],
                         "strategy": k.get("strategy"), "bytes": moved, "mean_us": t["mean_us"],
                         "calls": t["calls"], "gbps": bw / 1e9, "fraction_of_peak": bw / peak,
                         "onnx_nodes": k.get("onnx_nodes", [])[:4]})
        gemms = [e for e in profile.get("entries", []) if e.get("kind") == "gemm"]
        total = profile.get("total_us", 0.0)
        kernel_us = sum(r["mean_us"] * r["calls"] for r in rows)
        summary = {"model": model, "precision": prec, "profile": str(profile_path),
                   "total_us": total, "generated_kernels_us": kernel_us,
                   "gemm_us": sum(e["total_us"] for e in gemms), "kernels": rows,
                   "gemms": gemms}
        if rows:
            big = [r for r in rows if r["bytes"] >= (1 << 20)] or rows
            weighted = sum(r["bytes"] * r["calls"] for r in big) / max(
                1e-12, sum(r["mean_us"] * r["calls"] * 1e-6 for r in big)) / peak
            summary["time_weighted_fraction_of_peak"] = weighted
            summary["kernels_over_1MiB"] = len(big)
        self.summary["bandwidth"].append(summary)
        if rows:
            top = sorted(rows, key=lambda r: -r["mean_us"] * r["calls"])[:3]
            self.log.say(f"    profile: {total:.0f} us total, generated kernels {kernel_us:.0f} us, "
                         f"GEMMs {summary['gemm_us']:.0f} us; bandwidth of kernels >= 1 MiB: "
                         f"{summary['time_weighted_fraction_of_peak']:.1%} of peak")
            for r in top:
                self.log.say(f"      {r['kernel']:<22} {r['strategy']:<20} {r['mean_us']:9.1f} us "
                             f"{r['gbps']:8.1f} GB/s ({r['fraction_of_peak']:.1%})")

    # 5 ----------------------------------------------------------------------
    def gemm(self):
        out_json = self.logdir / "bench-gemm.json"
        rc, out, err, _ = run([self.probe, "--bench-gemm", "--json", out_json], self.log,
                              "bench-gemm", self.budget.box(120, 30), env=self.lib_env)
        for line in out.splitlines():
            self.log.say(f"  {line}")
        if rc == 0 and out_json.exists():
            self.summary["gemm"] = json.loads(out_json.read_text())["results"]
        else:
            self.summary["gemm"] = [{"error": first_error_line(err, out)}]

    # 6 ----------------------------------------------------------------------
    def latency(self):
        for model in self.meta.get("latency", []):
            if self.budget.left() < 60:
                self.summary["notes"].append(f"latency of {model['name']} skipped: budget")
                continue
            self.latency_mpc(model)
        # PyTorch once per model (mpc's builds of one model share its name).
        torch_models = [m for m in self.meta.get("latency", []) if m.get("impl", "mpc") == "mpc"]
        for model in torch_models:
            if self.budget.left() < 45:
                self.summary["notes"].append(f"PyTorch latency of {model['name']} skipped: budget")
                continue
            self.latency_torch(model, compile_=False)
        for model in torch_models:
            self.latency_torch(model, compile_=True)

    def latency_inputs(self, model, manifest):
        paths = {}
        rng = np.random.default_rng(0)
        for arg in manifest["eval"]["args"]:
            if arg.get("role") != "input":
                continue
            spec = model["inputs"].get(arg["name"], {"kind": "normal"})
            shape = arg["shape"]
            if spec["kind"] == "ids":
                a = rng.integers(0, spec["high"], shape).astype(MANIFEST_NUMPY[arg["dtype"]])
            elif spec["kind"] == "ones":
                a = np.ones(shape, MANIFEST_NUMPY[arg["dtype"]])
            else:
                a = rng.standard_normal(shape).astype(MANIFEST_NUMPY[arg["dtype"]])
            p = self.work / f"latency-{model['name']}-{arg['name']}.npy"
            np.save(p, a)
            paths[arg["name"]] = p
        return paths

    def latency_mpc(self, model):
        name = model["name"]
        impl = model.get("impl", "mpc")
        entry = {"model": name, "batch": model["batch"], "precision": model["precision"],
                 "impl": impl}
        if model.get("conv"):
            tag = f"{name}-conv-{model['conv']}"
        else:
            tag = name if impl == "mpc" else f"{name}-{impl.replace('+', '-')}"
        self.summary["latency"].append(entry)
        runner = self.bundle / model["runner"] if model.get("runner") else None
        if runner is None:
            entry["error"] = model.get("error", "not built")
            self.log.say(f"  {name} mpc: NOT BUILT ({entry['error']})")
            return
        try:
            rc, out, err, _ = run([runner, "--manifest"], self.log, f"manifest-{tag}",
                                  self.budget.box(30), echo=False)
            if rc != 0:
                raise RuntimeError(first_error_line(err, out))
            manifest = json.loads(out)
            weights = self.work / f"{name}.weights.safetensors"
            tensors, digest = weights_for_manifest(manifest, model.get("stats", {}))
            write_safetensors(weights, tensors)
            entry["weights_file"] = {"path": str(weights), "tensors": len(tensors),
                                     "bytes": weights.stat().st_size}
            del tensors
            inputs = self.latency_inputs(model, manifest)
        except Exception as e:
            entry["error"] = f"preparing: {e}"
            self.log.say(f"  {name} mpc: FAIL {entry['error']}")
            return
        self.log.say(f"  {name}: weights {weights.name} ({entry['weights_file']['bytes'] / 2**20:.0f} MiB, "
                     f"{entry['weights_file']['tensors']} tensors from --manifest)")
        cmd = [runner, "--weights", weights]
        for k, v in inputs.items():
            cmd += ["--input", f"{k}={v}"]
        # First a profiled run (2 iterations after 1 warm-up): per-kernel
        # bandwidth, and how long one forward takes, to size the timed run.
        profile = self.logdir / f"profile-{tag}-{model['precision']}.json"
        rc, out, err, _ = run(cmd + ["--iterations", "2", "--warmup", "1"], self.log,
                              f"profile-{tag}", self.budget.box(90, 30),
                              env={**self.lib_env, "MPC_CUDA_PROFILE": str(profile)})
        m = LATENCY_RE.search(out)
        if rc != 0 or not m:
            entry["error"] = first_error_line(err, out)
            self.log.say(f"  {name} mpc: FAIL {entry['error']}")
            return
        if profile.exists():
            self.bandwidth(tag, model["precision"], self.bundle / model["kernel_report"], profile)
        # The timed run without the profiler: about 10 s of forwards, 3 to 20.
        iterations = int(min(20, max(3, 10000.0 / max(float(m[2]), 1e-3))))
        rc, out, err, _ = run(cmd + ["--iterations", str(iterations), "--warmup", "2"], self.log,
                              f"latency-{tag}", self.budget.box(90, 30), env=self.lib_env)
        m = LATENCY_RE.search(out)
        if rc != 0 or not m:
            entry["error"] = first_error_line(err, out)
            self.log.say(f"  {name} mpc: FAIL {entry['error']}")
            return
        entry.update(mean_ms=float(m[1]), median_ms=float(m[2]), min_ms=float(m[3]),
                     max_ms=float(m[4]), line=m[0], iterations=iterations)
        self.log.say(f"  {name} {impl} {model['precision']} batch {model['batch']}: median "
                     f"{entry['median_ms']:.3f} ms ({iterations} iterations)")

    def latency_torch(self, model, compile_):
        name = model["name"]
        tag = "torch-compile" if compile_ else "torch-eager"
        left = self.budget.left()
        if compile_ and left < 100:
            self.summary["notes"].append(f"torch.compile of {name} skipped: {left:.0f} s left")
            self.log.say(f"  {name} torch.compile: skipped ({left:.0f} s left)")
            return
        # In a child process: a hang or a crash (or torch.compile's time)
        # stays inside its timeout.
        out_json = self.work / f"{tag}-{name}.json"
        cmd = [sys.executable, pathlib.Path(__file__).resolve(), "--torch-bench", name,
               "--batch", str(model["batch"]), "--out", out_json]
        if compile_:
            cmd.append("--compile")
        timeout = self.budget.box(240 if compile_ else 120, 10)
        rc, out, err, _ = run(cmd, self.log, f"{tag}-{name}", timeout)
        for line in out.splitlines():
            self.log.say(f"    {line}")
        if out_json.exists():
            for r in json.loads(out_json.read_text()):
                self.summary["latency"].append({"model": name, "batch": model["batch"], **r})
        else:
            self.summary["latency"].append({"model": name, "batch": model["batch"], "impl": tag,
                                            "error": first_error_line(err, out)})

    # -------------------------------------------------------------------------
    def throughput(self):
        """bf16 training throughput and peak memory of each throughput trainer of the bundle, and
        of the same model, batch and optimizer in PyTorch AMP (docs/gpu-check.md, "Throughput")."""
        entries = self.meta.get("throughput", [])
        if not entries:
            self.summary["notes"].append("throughput: the bundle has no throughput trainers")
            self.log.say("  the bundle has no throughput trainers")
            return
        for t in entries:
            if self.budget.left() < 60:
                self.summary["notes"].append(f"throughput of {t['name']} skipped: budget")
                continue
            self.throughput_mpc(t)
            if self.budget.left() < 45:
                self.summary["notes"].append(f"PyTorch throughput of {t['name']} skipped: budget")
                continue
            self.throughput_torch(t, compile_=False)
        # torch.compile once (compiling takes minutes), on the encoder.
        for t in entries:
            if t["name"] == THROUGHPUT_COMPILED:
                self.throughput_torch(t, compile_=True)

    def throughput_data(self, t, manifest):
        """Rows for two batches of each input and the label, from the trainer's manifest."""
        rng = np.random.default_rng(0)
        rows = 2 * t["batch"]
        paths = {}
        for arg in manifest["train"]["args"]:
            role = arg.get("role")
            if role not in ("input", "label"):
                continue
            shape = [rows] + list(arg["shape"][1:])
            dtype = MANIFEST_NUMPY[arg["dtype"]]
            spec = t["inputs"].get(arg["name"], {"kind": "normal"})
            if role == "label":
                a = rng.integers(0, t["label_classes"], shape).astype(dtype)
            elif spec["kind"] == "ids":
                a = rng.integers(0, spec["high"], shape).astype(dtype)
            elif spec["kind"] == "ones":
                a = np.ones(shape, dtype)
            else:
                a = rng.standard_normal(shape).astype(dtype)
            p = self.work / f"throughput-{t['name']}-{arg['name']}.npy"
            np.save(p, a)
            paths[arg["name"]] = p
        return paths

    def throughput_mpc(self, t):
        name = t["name"]
        entry = {"model": name, "impl": "mpc", "batch": t["batch"], "precision": t["precision"],
                 "kernels": t.get("kernels")}
        self.summary["throughput"].append(entry)
        if not t.get("trainer"):
            entry["error"] = t.get("error", "not built")
            self.log.say(f"  {name} mpc: NOT BUILT ({entry['error']})")
            return
        trainer = self.bundle / t["trainer"]
        try:
            rc, out, err, _ = run([trainer, "--manifest"], self.log, f"manifest-throughput-{name}",
                                  self.budget.box(30), echo=False)
            if rc != 0:
                raise RuntimeError(first_error_line(err, out))
            manifest = json.loads(out)
            weights = self.work / f"throughput-{name}.weights.safetensors"
            tensors = trainer_weights(manifest)
            write_safetensors(weights, tensors)
            entry["weights_file"] = {"tensors": len(tensors), "bytes": weights.stat().st_size}
            del tensors
            data = self.throughput_data(t, manifest)
        except Exception as e:
            entry["error"] = f"preparing: {e}"
            self.log.say(f"  {name} mpc: FAIL {entry['error']}")
            return
        log = self.work / f"throughput-{name}.jsonl"
        cmd = [trainer, "--weights", weights, "--steps", THROUGHPUT_STEPS, "--seed", "1",
               "--progress-every", THROUGHPUT_STEPS // 3, "--log-every", THROUGHPUT_STEPS // 3, "--log", log]
        for k, v in data.items():
            cmd += ["--data", f"{k}={v}"]
        rc, out, err, secs = run(cmd, self.log, f"throughput-{name}", self.budget.box(150, 30),
                                 env={**self.lib_env, "MPC_CUDA_MEMORY_STATS": "1"})
        rates = PROGRESS_RE.findall(out)
        if rc != 0 or not rates:
            entry["error"] = first_error_line(err, out)
            self.log.say(f"  {name} mpc: FAIL {entry['error']}")
            return
        losses = [e.get("loss") for e in step_entries(read_jsonl(log))]
        memory = MEMORY_RE.search(err)
        entry.update(samples_per_s=float(rates[-1][2]), over=f"steps {THROUGHPUT_STEPS * 2 // 3 + 1}-"
                     f"{THROUGHPUT_STEPS}", seconds=round(secs, 1), losses=losses,
                     peak_memory_bytes=int(memory[1]) if memory else None)
        self.log.say(f"  {name} mpc bf16 batch {t['batch']}: {entry['samples_per_s']:.1f} samples/s "
                     f"({entry['over']}), peak GPU memory "
                     f"{entry['peak_memory_bytes'] / 2**30 if memory else float('nan'):.2f} GiB, losses {losses}")

    def throughput_torch(self, t, compile_):
        name = t["name"]
        tag = "torch-compile" if compile_ else "torch-eager"
        left = self.budget.left()
        if compile_ and left < 150:
            self.summary["notes"].append(f"torch.compile training of {name} skipped: {left:.0f} s left")
            self.log.say(f"  {name} torch.compile: skipped ({left:.0f} s left)")
            return
        out_json = self.work / f"{tag}-train-{name}.json"
        cmd = [sys.executable, pathlib.Path(__file__).resolve(), "--torch-train-bench", name,
               "--batch", str(t["batch"]), "--out", out_json]
        if compile_:
            cmd.append("--compile")
        rc, out, err, _ = run(cmd, self.log, f"{tag}-train-{name}", self.budget.box(300 if compile_ else 120, 10))
        for line in out.splitlines():
            self.log.say(f"    {line}")
        if out_json.exists():
            for r in json.loads(out_json.read_text()):
                self.summary["throughput"].append({"model": name, "batch": t["batch"], **r})
        else:
            self.summary["throughput"].append({"model": name, "batch": t["batch"], "impl": tag,
                                               "error": first_error_line(err, out)})

    # -------------------------------------------------------------------------
    def dry_run_extras(self):
        """Without a GPU: what can still be exercised (bundle integrity,
        weights from --manifest, the comparison code on the CPU references,
        the summary). Also run on a GPU machine: cheap."""
        problems = []
        for f in self.meta.get("files", []):
            p = self.bundle / f["path"]
            if not p.exists():
                problems.append(f"missing {f['path']}")
            elif p.stat().st_size != f["bytes"]:
                problems.append(f"{f['path']}: {p.stat().st_size} bytes, expected {f['bytes']}")
            elif f.get("sha256") and hashlib.sha256(p.read_bytes()).hexdigest() != f["sha256"]:
                problems.append(f"{f['path']}: sha256 differs")
        self.summary["bundle_integrity"] = {"files": len(self.meta.get("files", [])),
                                            "problems": problems, "ok": not problems}
        self.log.say(f"  bundle: {len(self.meta.get('files', []))} files, "
                     f"{'all present and intact' if not problems else problems}")
        # The comparison code, fed the CPU references themselves.
        checks = []
        for model in self.meta["models"]:
            base = self.bundle / model["dir"]
            ort_here = load_npy_dir(base / "ref_onnxruntime_fp32")
            for prec, build in model["builds"].items():
                got = load_npy_dir(base / f"ref_cpu_{prec.split('+')[0]}")
                if not got:
                    continue
                entry = {"model": model["name"], "precision": prec}
                saved = self.log.say
                self.log.say = lambda *_: None
                try:
                    self.judge(entry, got, model, prec, None, None, ort_here, None)
                finally:
                    self.log.say = saved
                checks.append({"model": model["name"], "precision": prec,
                               "status": entry["status"],
                               "worst": {k: v["worst"] for k, v in entry.items()
                                         if isinstance(v, dict) and "worst" in v}})
        self.summary["comparison_selfcheck"] = checks
        self.training_selfcheck()
        # onnxruntime here against the build machine's (for a 'regen' model
        # this checks the regenerated external data as well).
        ort = []
        for model in self.meta["models"]:
            base = self.bundle / model["dir"]
            try:
                inputs_np = {k: np.load(base / v) for k, v in model["inputs"].items()}
                outs, provider = self.onnxruntime_reference(model, inputs_np)
            except Exception as e:
                outs, provider = None, f"onnxruntime failed: {type(e).__name__}: {e}"
            self.ort_cache[model["name"]] = (outs, provider)
            if outs is None:
                ort.append({"model": model["name"], "status": "SKIP", "why": provider})
                continue
            r = compare_outputs(outs, load_npy_dir(base / "ref_onnxruntime_fp32"), "fp32", 1e-4)
            ort.append({"model": model["name"], "provider": provider,
                        "status": "PASS" if r["ok"] else "FAIL", "worst": r["worst"]})
            self.log.say(f"  onnxruntime here ({provider}) vs the build machine's: {model['name']}: "
                         f"{ort[-1]['status']} {r['worst']:.3g}")
        self.summary["onnxruntime_here_vs_build_machine"] = ort
        for c in checks:
            self.log.say(f"  CPU reference through the comparison: {c['model']} {c['precision']}: "
                         f"{c['status']} " + " ".join(f"{k} {v:.3g}" for k, v in c["worst"].items()))
        # A 'regen' model: the weights must come out as on the build machine.
        for model in self.meta["models"]:
            regen = model.get("weights_regen")
            if regen:
                _, digest = generated_weights(regen["specs"])
                ok = digest == regen["sha256"]
                self.summary.setdefault("weights_regeneration", []).append(
                    {"model": model["name"], "ok": ok})
                self.log.say(f"  regenerated weights of {model['name']}: "
                             f"{'identical to the build machine' if ok else 'DIFFER'}")

    def training_selfcheck(self):
        """compare_curves on the CPU references: each against itself must PASS, one with a loss
        moved by twice the tolerance, or a step's finite flag flipped, must FAIL."""
        checks = []
        for t in self.meta.get("training", []):
            ref = read_jsonl(self.bundle / t["ref_log"]) if t.get("ref_log") else []
            if not ref:
                continue
            tol = t["tolerance"]
            moved = [dict(e) for e in ref]
            moved[-1]["loss"] = moved[-1]["loss"] * (1 + 2 * tol) if moved[-1].get("loss") else 1.0
            flipped = [dict(e) for e in ref]
            flipped[0]["finite"] = not flipped[0]["finite"]
            label = f"{t['name']} {t['precision']}"
            for case, log, want in ((f"{label} itself", ref, True), (f"{label} a loss off by 2x tolerance",
                                                                    moved, False),
                                    (f"{label} a finite flag flipped", flipped, False)):
                ok = compare_curves(log, ref, tol)["ok"]
                checks.append({"case": case, "status": "PASS" if ok == want else "FAIL",
                               "expected": "ok" if want else "not ok"})
        self.summary["training_selfcheck"] = checks
        bad = [c["case"] for c in checks if c["status"] != "PASS"]
        if checks:
            self.log.say(f"  training comparison code on the CPU references: {len(checks) - len(bad)}/{len(checks)} "
                         f"PASS" + (f" (FAIL: {', '.join(bad)})" if bad else ""))

    # -------------------------------------------------------------------------
    def write_summary(self):
        s = self.summary
        s["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
        s["gpu"] = self.gpu_name or None
        lines = ["", "=" * 78, "SUMMARY", "=" * 78]
        lines.append(f"GPU: {s['environment'].get('nvidia_smi')}")
        lines.append(f"peak bandwidth assumed: {s['environment'].get('peak_bandwidth_assumed')}")
        lines.append(f"torch {s['environment'].get('torch')}, onnxruntime "
                     f"{s['environment'].get('onnxruntime')}, python {s['environment'].get('python')}")
        st = s.get("selftest")
        if st is None:
            lines.append("selftest: not run")
        else:
            lines.append(f"selftest: {'PASS' if st.get('ok') else 'FAIL'}"
                         f"{'' if st.get('ok') else ' - ' + str(st.get('error'))}")
        if "bundle_integrity" in s:
            lines.append(f"bundle integrity: {'PASS' if s['bundle_integrity']['ok'] else 'FAIL'}")
        lines.append("")
        lines.append(f"{'model':<10} {'prec':<5} {'status':<9} {'vs ORT/fp32':>12} {'vs CPU':>10}  note")
        for e in s["numerics"]:
            ort = e.get("vs_onnxruntime_there", e.get("vs_onnxruntime_build_machine", e.get("vs_fp32")))
            cpu = e.get("vs_cpu_target")
            fmt = lambda r: f"{r['worst']:.3g}" if r else "-"
            model = e["model"] + (f"/{e['conv']}" if "conv" in e else "")
            lines.append(f"{model:<10} {e['precision']:<5} {e.get('status', '?'):<9} "
                         f"{fmt(ort):>12} {fmt(cpu):>10}  {(e.get('error') or e.get('note') or '')[:90]}")
        for o in s.get("onnxruntime_here_vs_build_machine", []):
            lines.append(f"onnxruntime here vs build machine: {o['model']:<10} {o['status']}"
                         + (f" {o['worst']:.3g} ({o['provider']})" if "worst" in o else f" ({o.get('why')})"))
        if s.get("comparison_selfcheck"):
            bad = [c for c in s["comparison_selfcheck"] if c["status"] != "PASS"]
            lines.append(f"comparison code on the CPU references: {len(s['comparison_selfcheck']) - len(bad)}"
                         f"/{len(s['comparison_selfcheck'])} PASS"
                         + (f" (FAIL: {', '.join(c['model'] + ' ' + c['precision'] for c in bad)})" if bad else ""))
        lines.append("")
        lines.append("training: per-step relative loss difference against the CPU trainer (curve: 20 steps; "
                     "vs fp32: the CPU fp32 trainer's; round trip: 20 + resume to 30 against 30; "
                     "CPU->dev: the CPU's step-10 checkpoint resumed to 20):")
        lines.append("  " + TRAINING_HEADER)
        for e in s.get("training", []):
            lines.append(f"  {training_line(e)}  (tolerance {e['tolerance']})")
        if not s.get("training"):
            lines.append("  (none run)")
        if s.get("training_selfcheck"):
            bad = [c["case"] for c in s["training_selfcheck"] if c["status"] != "PASS"]
            lines.append(f"training comparison code on the CPU references (itself; a loss moved, a flag flipped): "
                         f"{len(s['training_selfcheck']) - len(bad)}/{len(s['training_selfcheck'])} PASS"
                         + (f" (FAIL: {', '.join(bad)})" if bad else ""))
        lines.append("")
        lines.append("bandwidth of generated kernels (bytes from the kernel report / profiled time):")
        for b in s["bandwidth"]:
            frac = b.get("time_weighted_fraction_of_peak")
            lines.append(f"  {b['model']:<10} {b['precision']:<5} total {b['total_us']:10.0f} us, kernels "
                         f"{b['generated_kernels_us']:10.0f} us, GEMMs {b['gemm_us']:9.0f} us, "
                         f"kernels >= 1 MiB at {frac:.1%} of peak" if frac is not None else
                         f"  {b['model']:<10} {b['precision']:<5} (no kernel times)")
        if not s["bandwidth"]:
            lines.append("  (none measured)")
        lines.append("")
        lines.append("GEMM (mpc_cuda_matmul, cuBLASLt) TFLOP/s:")
        for g in s["gemm"]:
            if "error" in g:
                lines.append(f"  FAIL {g['error']}")
            else:
                lines.append(f"  {g['m']}x{g['n']}x{g['k']:<6} {g['type']:<5} {g['tflops']:8.1f}  "
                             f"({g['median_ms']:.3f} ms)")
        lines.append("")
        lines.append("convolutions: cuDNN (mpc_cuda_conv) TFLOP/s on ResNet-50's shapes:")
        for c in s.get("conv_bench", []):
            if "error" in c:
                lines.append(f"  FAIL {c['error']}")
            else:
                lines.append(f"  {c['layer']:<22} {c['type']:<5} {c['tflops']:8.1f}  ({c['median_ms']:.3f} ms)")
        lines.append("convolutions: --cuda-conv=gemm (im2col + cuBLASLt) | --cuda-conv=cudnn (ms, median):")
        rows = {}
        for e in s["numerics"]:
            if "conv" in e:
                rows.setdefault((e["model"], e["precision"], e["batch"]), {})[e["conv"]] = e
        for e in s["latency"]:
            if str(e.get("impl", "")).startswith("mpc --cuda-conv="):
                rows.setdefault((e["model"], e.get("precision"), e.get("batch")), {})[
                    e["impl"].split("=")[1]] = e
        for (model, prec, batch), by in rows.items():
            def cell(conv):
                e = by.get(conv)
                if not e:
                    return "-"
                ms = f"{e['median_ms']:.3f}" if "median_ms" in e else "no time"
                return f"{e.get('status', '')} {ms}".strip()
            lines.append(f"  {model:<10} {prec:<5} b{batch:<4} gemm {cell('gemm'):>18} | cudnn {cell('cudnn'):>18}")
        if not rows:
            lines.append("  (none run)")
        lines.append("")
        lines.append("forward latency (ms, median):")
        for e in s["latency"]:
            what = f"{e['model']:<10} b{e.get('batch')} {e.get('impl', '?'):<26} {e.get('precision', ''):<6}"
            if "median_ms" in e:
                lines.append(f"  {what} {e['median_ms']:9.3f}" +
                             (f"   (compile {e['compile_s']:.0f} s)" if e.get("compile_s") else ""))
            else:
                lines.append(f"  {what}  FAIL {str(e.get('error'))[:100]}")
        lines.append("")
        lines.extend(throughput_lines(s.get("throughput", [])))
        for n in s["notes"]:
            lines.append(f"note: {n}")
        lines.append("steps: " + ", ".join(f"{k} {v['status'].split(':')[0]} ({v['seconds']} s)"
                                          for k, v in s["steps"].items()))
        text = "\n".join(lines)
        self.log.say(text)
        (self.logdir / "summary.txt").write_text(text + "\n")
        (self.logdir / "summary.json").write_text(json.dumps(s, indent=1, default=str) + "\n")

    def all(self, only=None):
        """The steps in order (`only`: a set of STEPS keys; the environment always runs)."""
        self.log.say(f"mpc GPU check: bundle {self.bundle}, logs {self.logdir}, "
                     f"budget {self.budget.left():.0f} s")
        self.step("environment", self.environment)
        for key, title in STEPS:
            if only is None or key in only:
                self.step(title, getattr(self, STEP_METHODS[key]))
        self.write_summary()
        if not os.environ.get("GPU_CHECK_KEEP_WORK"):
            shutil.rmtree(self.work, ignore_errors=True)


# The steps after the environment, in order: (--steps key, title in the logs and summary).
STEPS = [("bundle", "bundle and comparison code (no GPU needed)"), ("selftest", "selftest"),
         ("numerics", "numerics"), ("training", "training"), ("gemm", "gemm"),
         ("convolutions", "convolutions"), ("latency", "latency"), ("throughput", "training throughput")]
STEP_METHODS = {"bundle": "dry_run_extras", "selftest": "selftest", "numerics": "numerics",
                "training": "training", "gemm": "gemm", "convolutions": "convolutions", "latency": "latency",
                "throughput": "throughput"}


# ---------------------------------------------------------------------------
# PyTorch side (run in a child process: --torch-bench NAME)
# ---------------------------------------------------------------------------

def torch_resnet50():
    import torch.nn as nn
    try:
        import torchvision
        return torchvision.models.resnet50(weights=None), "torchvision.models.resnet50"
    except Exception:
        pass

    class Bottleneck(nn.Module):
        def __init__(self, cin, width, stride):
            super().__init__()
            cout = width * 4
            self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(width)
            self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(width)
            self.conv3 = nn.Conv2d(width, cout, 1, bias=False)
            self.bn3 = nn.BatchNorm2d(cout)
            self.relu = nn.ReLU(inplace=True)
            self.down = None
            if stride != 1 or cin != cout:
                self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                          nn.BatchNorm2d(cout))

        def forward(self, x):
            y = self.relu(self.bn1(self.conv1(x)))
            y = self.relu(self.bn2(self.conv2(y)))
            y = self.bn3(self.conv3(y))
            return self.relu(y + (x if self.down is None else self.down(x)))

    class ResNet50(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64),
                                      nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1))
            layers, cin = [], 64
            for width, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
                for i in range(blocks):
                    layers.append(Bottleneck(cin, width, stride if i == 0 else 1))
                    cin = width * 4
            self.layers = nn.Sequential(*layers)
            self.fc = nn.Linear(2048, 1000)

        def forward(self, x):
            x = self.layers(self.stem(x))
            return self.fc(x.mean((2, 3)))

    return ResNet50(), "hand-written ResNet-50 (no torchvision)"


def torch_bench(name, batch, out, compile_):
    import torch

    results = []

    def save():
        pathlib.Path(out).write_text(json.dumps(results))

    if not torch.cuda.is_available():
        results.append({"impl": "torch", "error": "torch.cuda.is_available() is False"})
        save()
        print("torch: no CUDA device")
        return 1
    dev = torch.device("cuda")
    torch.backends.cudnn.benchmark = True
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    if name == "resnet50":
        model, what = torch_resnet50()
        args = (torch.randn(batch, 3, 224, 224, device=dev),)
    else:
        sys.path.insert(0, str(REPO / "test" / "Inputs" / "models"))
        from export_real_models import Bert  # the architecture mpc compiled
        model = Bert(vocab=30522, seq=128, hidden=768, heads=12, ffn=3072, layers=12)
        what = "export_real_models.Bert (BERT-base size)"
        args = (torch.randint(0, 30522, (batch, 128), device=dev),
                torch.ones(batch, 128, dtype=torch.long, device=dev))
    model = model.to(dev).eval()

    def timed(fn, iters=20, warmup=3):
        with torch.no_grad():
            for _ in range(warmup):
                fn()
            torch.cuda.synchronize()
            ms = []
            for _ in range(iters):
                a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                a.record()
                fn()
                b.record()
                b.synchronize()
                ms.append(a.elapsed_time(b))
        ms.sort()
        return {"median_ms": ms[len(ms) // 2], "mean_ms": sum(ms) / len(ms), "min_ms": ms[0]}

    def bf16():
        with torch.autocast("cuda", dtype=torch.bfloat16):
            return model(*args)

    if not compile_:
        for impl, prec, fn in (("torch eager", "fp32", lambda: model(*args)),
                               ("torch eager autocast", "bf16", bf16)):
            try:
                r = timed(fn)
                results.append({"impl": impl, "precision": prec, "model_source": what, **r})
                print(f"{name} {impl} {prec}: median {r['median_ms']:.3f} ms")
            except Exception as e:
                results.append({"impl": impl, "precision": prec, "error": f"{type(e).__name__}: {e}"})
                print(f"{name} {impl} {prec}: {type(e).__name__}: {e}")
            save()
        return 0
    try:
        start = time.monotonic()
        compiled = torch.compile(model)

        def cfn():
            with torch.autocast("cuda", dtype=torch.bfloat16):
                return compiled(*args)

        with torch.no_grad():
            cfn()
            torch.cuda.synchronize()
        compile_s = time.monotonic() - start
        r = timed(cfn)
        results.append({"impl": "torch.compile autocast", "precision": "bf16", "model_source": what,
                        "compile_s": compile_s, **r})
        print(f"{name} torch.compile autocast bf16: median {r['median_ms']:.3f} ms "
              f"(compiled in {compile_s:.0f} s)")
    except Exception as e:
        results.append({"impl": "torch.compile autocast", "precision": "bf16",
                        "error": f"{type(e).__name__}: {e}"})
        print(f"{name} torch.compile: {type(e).__name__}: {e}")
    save()
    return 0


def torch_training_model(name, torch, dev):
    """(model, inputs, labels, loss function of (outputs, labels), optimizer factory, description)
    of a throughput model: the architecture mpc's trainer was compiled from, its batch's random
    data, mpc-compile's optimizer flags (gpu_bundle.py THROUGHPUT)."""
    sys.path.insert(0, str(REPO / "test" / "Inputs" / "models"))
    import export_real_models as erm
    ce = torch.nn.functional.cross_entropy
    adamw = lambda params: torch.optim.AdamW(params, lr=1e-4, weight_decay=0.01, fused=True)
    sgd = lambda params: torch.optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=1e-4)
    return {
        "resnet50": lambda b: (lambda model, what: (
            model, (torch.randn(b, 3, 224, 224, device=dev),), torch.randint(0, 1000, (b,), device=dev),
            lambda out, y: ce(out, y), sgd, what + ", SGD momentum 0.9"))(*torch_resnet50()),
        "bert_base": lambda b: (erm.Bert(vocab=30522, seq=128, hidden=768, heads=12, ffn=3072, layers=12),
                                (torch.randint(0, 30522, (b, 128), device=dev),
                                 torch.ones(b, 128, dtype=torch.long, device=dev)),
                                torch.randint(0, 768, (b,), device=dev), lambda out, y: ce(out[1], y), adamw,
                                "export_real_models.Bert (BERT-base size), loss on the pooled output, fused AdamW"),
        "gpt2_small": lambda b: (erm.Gpt(vocab=50257, max_seq=1024, hidden=768, heads=12, layers=12),
                                 (torch.randint(0, 50257, (b, 1024), device=dev),),
                                 torch.randint(0, 50257, (b, 1024), device=dev),
                                 lambda out, y: ce(out.reshape(-1, out.shape[-1]), y.reshape(-1)), adamw,
                                 "export_real_models.Gpt (GPT-2 small), fused AdamW"),
    }.get(name)


def torch_train_bench(name, batch, out, compile_):
    """PyTorch AMP training steps (autocast bf16; bf16 needs no GradScaler) of a throughput model:
    3 warm-up steps, then 10 timed between CUDA events; samples/s and the peak memory PyTorch's
    allocator reserved (and allocated)."""
    import torch

    impl = "torch.compile autocast" if compile_ else "torch eager autocast"
    results = [{"impl": impl, "precision": "bf16"}]

    def save():
        pathlib.Path(out).write_text(json.dumps(results))

    if not torch.cuda.is_available():
        results[0]["error"] = "torch.cuda.is_available() is False"
        save()
        print("torch: no CUDA device")
        return 1
    dev = torch.device("cuda")
    torch.backends.cudnn.benchmark = True
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    make = torch_training_model(name, torch, dev)
    if make is None:
        results[0]["error"] = f"no PyTorch model for '{name}'"
        save()
        return 1
    try:
        model, inputs, labels, loss_fn, optimizer, what = make(batch)
        model = model.to(dev).train()
        opt = optimizer(model.parameters())
        step_model = torch.compile(model) if compile_ else model

        def step():
            with torch.autocast("cuda", dtype=torch.bfloat16):
                loss = loss_fn(step_model(*inputs), labels)
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
            return loss

        torch.cuda.reset_peak_memory_stats()
        start = time.monotonic()
        for _ in range(3):
            step()
        torch.cuda.synchronize()
        warmup_s = time.monotonic() - start
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        for _ in range(10):
            loss = step()
        b.record()
        b.synchronize()
        seconds = a.elapsed_time(b) / 1000
        results[0].update(model_source=what, samples_per_s=10 * batch / seconds, step_ms=seconds * 100,
                          warmup_s=round(warmup_s, 1), loss=float(loss),
                          peak_memory_bytes=torch.cuda.max_memory_reserved(),
                          peak_allocated_bytes=torch.cuda.max_memory_allocated())
        print(f"{name} {impl} bf16 batch {batch}: {results[0]['samples_per_s']:.1f} samples/s, peak "
              f"{results[0]['peak_memory_bytes'] / 2**30:.2f} GiB reserved (warm-up {warmup_s:.0f} s)")
    except Exception as e:
        results[0]["error"] = f"{type(e).__name__}: {e}"
        print(f"{name} {impl}: {type(e).__name__}: {e}")
    save()
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("bundle", nargs="?")
    p.add_argument("logdir", nargs="?")
    p.add_argument("--budget", type=float, default=450.0,
                   help="seconds for the whole check (default 450: ends within 8 minutes)")
    p.add_argument("--steps", help="comma-separated steps to run (default all): " +
                   " ".join(k for k, _ in STEPS))
    p.add_argument("--torch-bench", help=argparse.SUPPRESS)
    p.add_argument("--torch-train-bench", help=argparse.SUPPRESS)
    p.add_argument("--batch", type=int, default=32, help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    p.add_argument("--compile", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.torch_bench:
        return torch_bench(a.torch_bench, a.batch, a.out, a.compile)
    if a.torch_train_bench:
        return torch_train_bench(a.torch_train_bench, a.batch, a.out, a.compile)
    if not a.bundle or not a.logdir:
        p.error("BUNDLE and LOGDIR are required")
    only = None
    if a.steps:
        only = set(a.steps.split(","))
        if only - set(STEP_METHODS):
            p.error(f"--steps: unknown {sorted(only - set(STEP_METHODS))} (there are {' '.join(STEP_METHODS)})")
    check = Check(a.bundle, a.logdir, a.budget)
    check.all(only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
