#!/usr/bin/env python3
"""Builds the bundle scripts/gpu_check.py runs on a GPU machine (docs/gpu-check.md).

    .venv/bin/python scripts/gpu_bundle.py OUT [--batch 2] [--skip-cpu-refs]

On a build machine (no GPU needed): CUDA runners (mpc-compile --target cuda)
of the test models and the real models in fp32/bf16/fp16 with their kernel
reports, the inputs, onnxruntime's fp32 outputs and the CPU target's
(mpc-run) per precision, the ONNX models that fit, and for the encoders
also runners with --cuda-attention=cudnn (builds "bf16+cudnn", checked
against the same references); ResNet-50 and a BERT-base-style encoder (the
latter with and without --cuda-attention=cudnn) at batch 32 bf16 with
--weights external for the latency comparison (and ResNet-50 fp32 with
--cuda-conv=gemm and =cudnn, the CNN's and ResNet-18's fp32 with
--cuda-conv=cudnn, for the convolution choice) (no weights: gpu_check.py writes random ones from the
runner's --manifest); mpc-cuda-probe; CUDA trainers (mpc-compile --train
--target cuda) of the training tests' MLP, CNN and encoder in fp32 and bf16
and of an MLP whose fp16 gradients overflow (dynamic loss scaling skips
steps), with their data and the CPU trainer's log and checkpoints of the same
run as references (TRAINING below). bundle.json lists it all (sizes,
sha256), README.md says it in words.

--parts numerics,training,latency,conv builds only those parts (default all);
--training-target cpu builds the "CUDA" trainers for the CPU instead, so that
gpu_check.py's training and throughput steps run here (test/e2e/test_gpu_check.py).
The throughput part: bf16 trainers of ResNet-50 (batch 64), a BERT-base-size encoder
(sequence 128, batch 32) and GPT-2 small (sequence 1024, batch 8) with --weights
external (THROUGHPUT below), which gpu_check.py trains beside PyTorch AMP.

Tools: MPC_BUILD_DIR (mpc-compile, mpc-run, the runtime libraries; default
this checkout's build/).
The CUDA runtime linked into the runners and the probe: MPC_CUDA_RUNTIME_BUILD
(default this checkout's build/ when it has lib/Runtime/CUDA/libMpcRuntimeCUDA.a):
the runners are emitted as objects and linked here, so that they carry that
runtime (with MPC_CUDA_PROFILE) whatever mpc-compile was configured with.
"""
import argparse
import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from gpu_check import generated_weights, tensor_stats  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[1]
MODELS_DIR = REPO / "test" / "Inputs" / "models"
EXPORT_SCRIPT = MODELS_DIR / "export_real_models.py"
TORCH_PYTHON = "/usr/bin/python3"
PRECISIONS = ["fp32", "bf16", "fp16"]
# A shipped .onnx at most this big (else only its graph, or nothing).
ONNX_SHIP_LIMIT = 4 << 20

# docs/numerics.md: fp32 against onnxruntime within rtol 1e-4; bf16/fp16 as
# max |low - ref| / max |ref| (the test bounds of test_models.py and
# test_real_models.py). gpt2 fp16 computes in f32 on the CPU target.
NUMERICS = [
    # name, source, weights, tolerances, input generators
    ("mlp", MODELS_DIR / "torch_mlp.onnx", "embedded", {"bf16": 3e-2, "fp16": 5e-3},
     {"x": ("normal",)}),
    ("cnn", MODELS_DIR / "torch_cnn.onnx", "embedded", {"bf16": 3e-2, "fp16": 5e-3},
     {"image": ("normal",)}),
    ("encoder", MODELS_DIR / "torch_encoder.onnx", "embedded", {"bf16": 3e-2, "fp16": 5e-3},
     {"ids": ("ids", 100)}),
    ("bert", "real:bert", "onnx", {"bf16": 1.2e-2, "fp16": 1.5e-3},
     {"ids": ("ids", 512), "mask": ("mask",)}),
    ("gpt2", "real:gpt2", "onnx", {"bf16": 5e-3, "fp16": 5e-3}, {"ids": ("ids", 256)}),
    ("resnet18", "real:resnet18", "regen", {"bf16": 1e-2, "fp16": 2e-3}, {"image": ("normal",)}),
]
# Models and precisions whose attention qualifies for cuDNN's fused attention:
# their runners are also built with --cuda-attention=cudnn (builds "bf16+cudnn",
# "fp16+cudnn"), checked like the default ones. (gpt2's masks are Where, not
# an additive mask: nothing to match; BERT fp16 keeps Q K^T in f32, no match.)
CUDNN_ATTENTION = {"encoder": ["bf16", "fp16"], "bert": ["bf16"]}
LATENCY = [
    # name, source, input generators, implementation (extra mpc-compile flags)
    ("resnet50", "real:resnet50", {"image": {"kind": "normal"}}, "mpc"),
    ("bert_base", "real:bert_base", {"ids": {"kind": "ids", "high": 30522}, "mask": {"kind": "ones"}},
     "mpc"),
    ("bert_base", "real:bert_base", {"ids": {"kind": "ids", "high": 30522}, "mask": {"kind": "ones"}},
     "mpc+cudnn"),
]
IMPL_FLAGS = {"mpc": [], "mpc+cudnn": ["--cuda-attention=cudnn"]}
# Convolutions through cuDNN or as im2col + cuBLASLt (mpc-compile --cuda-conv): the numerics
# models below get an fp32 runner of each (bf16/fp16 convolutions sum in f32, which cuDNN's
# legacy API does not take: they are im2col either way), and ResNet-50 fp32 at the latency
# batch one of each, timed side by side by gpu_check.py.
CONV_MODELS = ["cnn", "resnet18"]
CONV_STRATEGIES = ["gemm", "cudnn"]
CONV_LATENCY = [("resnet50", "real:resnet50", {"image": {"kind": "normal"}})]
# Training throughput (gpu_check.py's "throughput" step, docs/gpu-check.md): the models,
# bf16, --weights external (gpu_check.py writes weights from the trainer's --manifest), trained
# there side by side with PyTorch AMP on the same model, batch and optimizer.
THROUGHPUT_SGD = ["--optimizer", "sgd", "--lr", "0.1", "--momentum", "0.9", "--weight-decay", "1e-4"]
THROUGHPUT_ADAMW = ["--optimizer", "adamw", "--lr", "1e-4", "--weight-decay", "0.01"]
THROUGHPUT = [
    # name, source, batch, training flags, inputs (generators), label classes
    ("resnet50", "real:resnet50", 64, THROUGHPUT_SGD, {"image": {"kind": "normal"}}, 1000),
    # Cross-entropy on the pooled output (768 classes): the encoder's whole backward, no MLM head.
    ("bert_base", "real:bert_base", 32, THROUGHPUT_ADAMW + ["--output", "pooled"],
     {"ids": {"kind": "ids", "high": 30522}, "mask": {"kind": "ones"}}, 768),
    ("gpt2_small", "real:gpt2_small", 8, THROUGHPUT_ADAMW, {"ids": {"kind": "ids", "high": 50257}}, 50257),
]
PARTS = ["numerics", "training", "latency", "conv", "throughput"]

# Training (gpu_check.py's "training" step, docs/gpu-check.md): the models, data and flags of the
# end-to-end training tests (test/e2e/test_training.py, test_cuda_train.py), at their batch.
TRAIN_INPUTS = REPO / "test" / "Inputs" / "train"
TRAIN_BATCH = 32
TRAIN_STEPS, TRAIN_RESUME_STEPS, TRAIN_CPU_CHECKPOINT_STEP = 20, 30, 10
TRAIN_SEED = 1
# The loss curves' per-step bound, relative to the CPU trainer's loss of the same step
# (docs/gpu-check.md, "Training": why these numbers).
TRAIN_TOLERANCE = {"fp32": 1e-4, "bf16": 3e-2, "fp16": 5e-3}
# Each input's data is the training tests' file, times `scale` (1: shipped as is).
TRAINING = [
    # name, model, input name, training flags, precisions, input scale, what it checks
    ("mlp", "mlp", "x", ["--optimizer", "sgd", "--lr", "0.1", "--momentum", "0.9"], ["fp32", "bf16"], 1,
     "loss curve"),
    ("cnn", "cnn", "x", ["--optimizer", "sgd", "--lr", "0.05", "--momentum", "0.9", "--weight-decay", "1e-4"],
     ["fp32", "bf16"], 1, "loss curve (batch norm)"),
    ("encoder", "encoder", "ids", ["--optimizer", "adamw", "--lr", "0.003", "--weight-decay", "0.01"],
     ["fp32", "bf16"], 1, "loss curve (embedding, attention, layer norm)"),
    # Inputs times 30: at the initial loss scale 65536 the fp16 weight gradients overflow, so the
    # first 3 steps are skipped while the scale backs off to 8192 (measured on the CPU trainer;
    # x * 100 skips 5, x * 1 none), then it trains.
    ("mlp_overflow", "mlp", "x", ["--optimizer", "adamw", "--lr", "0.01", "--loss-scale", "dynamic"], ["fp16"], 30,
     "fp16 dynamic loss scaling: the same skipped steps"),
]

# Built only when --only names it: the training tests' MLP, for a dry run of the step here
# (test/e2e/test_gpu_check.py).
THROUGHPUT_DRY_RUN = [("mlp", str(TRAIN_INPUTS / "mlp.onnx"), 32, THROUGHPUT_SGD, {"x": {"kind": "normal"}}, 4)]


def say(text):
    print(text, flush=True)


def sh(cmd, timeout=1800, env=None):
    start = time.monotonic()
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout,
                       env={**os.environ, **(env or {})})
    return p.returncode, p.stdout, p.stderr, time.monotonic() - start


class Tools:
    def __init__(self):
        own = REPO / "build"
        build = os.environ.get("MPC_BUILD_DIR")
        if not build:
            build = own
        self.build = pathlib.Path(build)
        rt = os.environ.get("MPC_CUDA_RUNTIME_BUILD")
        if not rt:
            rt = own if (own / "lib/Runtime/CUDA/libMpcRuntimeCUDA.a").exists() else self.build
        self.runtime_build = pathlib.Path(rt)
        self.compile = self.build / "bin" / "mpc-compile"
        self.run = self.build / "bin" / "mpc-run"
        self.cxx = os.environ.get("MPC_CXX", "/usr/bin/clang++-22")
        self.libs = [self.build / "lib/Trainer/libMpcTrainerCUDA.a",
                     self.runtime_build / "lib/Runtime/CUDA/libMpcRuntimeCUDA.a",
                     self.build / "lib/Trainer/libMpcTrainer.a",
                     self.build / "lib/Runtime/libMpcRuntimeCore.a"]
        self.probe = self.runtime_build / "bin" / "mpc-cuda-probe"
        for p in [self.compile, self.run, self.probe] + self.libs:
            if not p.exists():
                sys.exit(f"gpu_bundle: missing {p} (set MPC_BUILD_DIR / MPC_CUDA_RUNTIME_BUILD)")
        nm = subprocess.run(["nm", "-C", self.libs[1]], capture_output=True, text=True).stdout
        self.profiling = "profileBegin" in nm
        if not self.profiling:
            say(f"warning: {self.libs[1]} has no MPC_CUDA_PROFILE support: no per-kernel times")

    def trainer(self, model, precision, flags, out, workdir, target="cuda", batch=TRAIN_BATCH):
        """A trainer: for CUDA emitted as an object and linked here with the runtime (as runners)."""
        cmd = [self.compile, model, "--train", "--target", target, "--loss", "cross_entropy", "--label", "label",
               "--batch", str(batch), "--precision", precision, *flags]
        if target == "cpu":
            rc, o, e, _ = sh(cmd + ["-o", out])
            return None if rc == 0 else f"mpc-compile failed: {last_error(e, o)}"
        obj = workdir / (out.name + ".o")
        rc, o, e, _ = sh(cmd + ["--emit", "obj", "-o", obj])
        if rc != 0:
            return f"mpc-compile failed: {last_error(e, o)}"
        rc, o, e, _ = sh([self.cxx, obj, "-o", out] + self.libs + ["-lm", "-lpthread", "-ldl"])
        obj.unlink(missing_ok=True)
        if rc != 0:
            return f"link failed: {last_error(e, o)}"
        subprocess.run(["strip", "--strip-unneeded", str(out)], check=False)
        return None

    def runner(self, model, precision, batch, external, report, out, workdir, flags=()):
        obj = workdir / (out.name + ".o")
        cmd = [self.compile, model, "--infer", "--target", "cuda", "--precision", precision,
               "--batch", str(batch), "--kernel-report", report, "--emit", "obj", "-o", obj, *flags]
        if external:
            cmd += ["--weights", "external"]
        rc, o, e, secs = sh(cmd)
        if rc != 0:
            return f"mpc-compile failed: {last_error(e, o)}"
        rc, o, e, _ = sh([self.cxx, obj, "-o", out] + self.libs + ["-lm", "-lpthread", "-ldl"])
        obj.unlink(missing_ok=True)
        if rc != 0:
            return f"link failed: {last_error(e, o)}"
        subprocess.run(["strip", "--strip-unneeded", str(out)], check=False)
        return None


def build_runner(tools, model_path, name, prec, batch, weights, mdir, work, flags, tag=""):
    """One numerics runner and its kernel report: the build's bundle.json entry."""
    build = {}
    runner = mdir / f"{name}_{prec}{tag}"
    report = mdir / f"{name}_{prec}{tag}.kernels.json"
    error = tools.runner(model_path, prec, batch, weights != "embedded", report, runner, work, flags)
    label = prec + (" " + " ".join(flags) if flags else "")
    if error:
        build["error"] = error
        report.unlink(missing_ok=True)
        say(f"  {label}: runner NOT BUILT: {error}")
        return build
    build.update(runner=f"models/{name}/{runner.name}", kernel_report=f"{report.name}")
    kernels = json.loads(report.read_text())["kernels"]
    build["kernels"] = len(kernels)
    build["cublaslt_gemms"] = sum(k["strategy"] == "cublaslt-gemm" for k in kernels)
    build["cudnn_attention"] = sum(k["strategy"] == "cudnn-attention" for k in kernels)
    say(f"  {label}: runner {runner.stat().st_size / 1024:.0f} KiB, {len(kernels)} kernels "
        f"({build['cublaslt_gemms']} cuBLASLt, {build['cudnn_attention']} cuDNN attention)")
    return build


def build_training(tools, out, work, only, target):
    """TRAINING's trainers under out/training/<name>/<precision>/ with their data and the CPU
    trainer's references; returns the bundle.json entries."""
    entries = []
    for name, model, input_name, flags, precisions, scale, what in TRAINING:
        if only and name not in only and model not in only:
            continue
        say(f"== training: {name} ({what})")
        tdir = out / "training" / name
        tdir.mkdir(parents=True)
        data = {}
        for key, src in ((input_name, TRAIN_INPUTS / f"{model}_{input_name}.npy"),
                         ("label", TRAIN_INPUTS / f"{model}_label.npy")):
            a = np.load(src)
            if key == input_name and scale != 1:
                a = (a * scale).astype(a.dtype)
            np.save(tdir / f"{key}.npy", a)
            data[key] = f"training/{name}/{key}.npy"
        run_flags = ["--seed", str(TRAIN_SEED), "--progress-every", "10"]
        fp32_log = None
        for prec in precisions:
            pdir = tdir / prec
            pdir.mkdir()
            rel = f"training/{name}/{prec}"
            entry = {"name": name, "model": model, "precision": prec, "what": what, "dir": rel,
                     "target": target, "batch": TRAIN_BATCH, "compile_flags": flags, "run_flags": run_flags,
                     "data": data, "input_scale": scale, "steps": TRAIN_STEPS,
                     "resume_steps": TRAIN_RESUME_STEPS, "cpu_checkpoint_step": TRAIN_CPU_CHECKPOINT_STEP,
                     "tolerance": TRAIN_TOLERANCE[prec]}
            entries.append(entry)
            cpu = work / f"train-{name}-{prec}-cpu"
            error = tools.trainer(TRAIN_INPUTS / f"{model}.onnx", prec, flags, cpu, work, target="cpu")
            if error:
                entry["error"] = f"CPU trainer: {error}"
                say(f"  {prec}: CPU trainer NOT BUILT: {error}")
                continue
            cmd = [cpu] + [a for k, v in data.items() for a in ("--data", f"{k}={out / v}")] + run_flags
            start = time.monotonic()
            runs = [(TRAIN_STEPS, "ref_cpu.jsonl", "ref_cpu_step%d.safetensors" % TRAIN_STEPS),
                    (TRAIN_CPU_CHECKPOINT_STEP, None, "ref_cpu_step%d.safetensors" % TRAIN_CPU_CHECKPOINT_STEP)]
            for steps, log, checkpoint in runs:
                extra = ["--steps", str(steps), "--checkpoint", pdir / checkpoint]
                if log:
                    extra += ["--log", pdir / log]
                rc, o, e, _ = sh(cmd + extra, timeout=600)
                if rc != 0:
                    entry["error"] = f"CPU reference run failed: {last_error(e, o)}"
                    break
            if "error" in entry:
                say(f"  {prec}: {entry['error']}")
                continue
            entry.update(ref_log=f"{rel}/ref_cpu.jsonl",
                         ref_checkpoint=f"{rel}/ref_cpu_step{TRAIN_STEPS}.safetensors",
                         ref_checkpoint_resume=f"{rel}/ref_cpu_step{TRAIN_CPU_CHECKPOINT_STEP}.safetensors",
                         cpu_reference_seconds=round(time.monotonic() - start, 2))
            if prec == "fp32":
                fp32_log = entry["ref_log"]
            elif fp32_log:
                entry["ref_log_fp32"] = fp32_log
            trainer = pdir / f"{name}_{prec}"
            if target == "cpu":
                shutil.copy(cpu, trainer)
                error = None
            else:
                error = tools.trainer(TRAIN_INPUTS / f"{model}.onnx", prec, flags, trainer, work, target=target)
            cpu.unlink(missing_ok=True)
            if error:
                entry["error"] = f"{target} trainer: {error}"
                say(f"  {prec}: trainer NOT BUILT: {error}")
                continue
            entry["trainer"] = f"{rel}/{trainer.name}"
            log = [json.loads(line) for line in (pdir / "ref_cpu.jsonl").read_text().splitlines()]
            say(f"  {prec}: {target} trainer {trainer.stat().st_size / 1024:.0f} KiB; CPU reference: "
                f"loss {log[0]['loss']} -> {log[-1]['loss']}, skipped {log[-1]['skipped']} "
                f"({entry['cpu_reference_seconds']} s)")
    return entries


def build_throughput(tools, out, work, only, cache, target):
    """THROUGHPUT's trainers under out/throughput/ (weights external, no data: gpu_check.py makes
    both from the trainer's --manifest); returns the bundle.json entries."""
    entries = []
    for name, source, batch, flags, inputs, classes in THROUGHPUT + THROUGHPUT_DRY_RUN:
        if (only and name not in only) or (not only and (name, source) in
                                           [(n, s) for n, s, *_ in THROUGHPUT_DRY_RUN]):
            continue
        say(f"== {name} (training throughput, batch {batch}, bf16, --weights external)")
        entry = {"name": name, "batch": batch, "precision": "bf16", "compile_flags": flags, "inputs": inputs,
                 "label_classes": classes, "target": target}
        entries.append(entry)
        try:
            src = exported(source[5:], cache) if source.startswith("real:") else pathlib.Path(source)
        except Exception as e:
            entry["error"] = str(e)
            say(f"  NOT BUILT: {e}")
            continue
        tdir = out / "throughput"
        tdir.mkdir(exist_ok=True)
        trainer = tdir / f"{name}_bf16_b{batch}"
        report = tdir / f"{trainer.name}.kernels.json"
        extra = ["--weights", "external"] + (["--kernel-report", report] if target == "cuda" else [])
        start = time.monotonic()
        error = tools.trainer(src, "bf16", flags + extra, trainer, work, target=target, batch=batch)
        entry["compile_seconds"] = round(time.monotonic() - start, 1)
        if error:
            entry["error"] = error
            say(f"  NOT BUILT: {error}")
            continue
        entry["trainer"] = f"throughput/{trainer.name}"
        note = ""
        if report.exists():
            kernels = json.loads(report.read_text())["kernels"]
            entry.update(kernel_report=f"throughput/{report.name}", kernels=len(kernels),
                         cublaslt_gemms=sum(k["strategy"] == "cublaslt-gemm" for k in kernels))
            note = f", {len(kernels)} kernels ({entry['cublaslt_gemms']} cuBLASLt)"
        say(f"  trainer {trainer.stat().st_size / 1024:.0f} KiB{note}, built in {entry['compile_seconds']} s; "
            f"weights ({src.stat().st_size / 2**20:.0f} MiB as ONNX) not shipped")
    return entries


def last_error(err, out=""):
    lines = [l for l in (err or out or "").strip().splitlines() if l.strip()]
    errors = [l for l in lines if "error" in l]
    return (errors or lines or ["?"])[-1].strip()[:300]


def exported(name, cache):
    """The real model's ONNX, exported by export_real_models.py into the
    cache (as test/e2e/test_real_models.py does, same stamp)."""
    import hashlib as h
    path, stamp = cache / f"{name}.onnx", cache / f"{name}.stamp"
    digest = h.sha256(EXPORT_SCRIPT.read_bytes()).hexdigest()
    if path.exists() and stamp.exists() and stamp.read_text() == digest:
        return path
    cache.mkdir(parents=True, exist_ok=True)
    say(f"  exporting {name} with {TORCH_PYTHON} (torch 1.13)")
    rc, o, e, _ = sh([TORCH_PYTHON, EXPORT_SCRIPT, cache, name], timeout=900)
    if rc != 0:
        raise RuntimeError(f"export of {name} failed: {last_error(e, o)}")
    stamp.write_text(digest)
    return path


def make_inputs(model, batch, generators, rng):
    import onnx
    out = {}
    for inp in model.graph.input:
        if inp.name not in generators:
            continue  # an initializer listed as an input
        t = inp.type.tensor_type
        shape = [batch if i == 0 else d.dim_value for i, d in enumerate(t.shape.dim)]
        dtype = onnx.helper.tensor_dtype_to_np_dtype(t.elem_type)
        gen = generators[inp.name]
        if gen[0] == "ids":
            a = rng.integers(0, gen[1], shape).astype(dtype)
        elif gen[0] == "mask":
            a = np.ones(shape, dtype)
            a[:, 20 + batch % 5:] = 0  # padded tails, as test_real_models.py
        else:
            a = rng.standard_normal(shape).astype(dtype)
        out[inp.name] = a
    return out


def onnxruntime_outputs(model_path, inputs):
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, inputs)))


def float_initializers(model):
    import onnx
    return [t for t in model.graph.initializer if t.data_type == onnx.TensorProto.FLOAT]


def regenerate(src, dst, skeleton):
    """src's float initializers replaced by deterministic values of the same
    mean/std (gpu_check.generated_weights), saved as dst (for mpc-run,
    onnxruntime, mpc-compile here); plus `skeleton`, the same graph with those
    initializers as external data that gpu_check.py writes there."""
    import onnx
    from onnx import numpy_helper
    model = onnx.load(str(src))
    specs = []
    for t in float_initializers(model):
        a = numpy_helper.to_array(t)
        specs.append({"name": t.name, "shape": list(a.shape), **tensor_stats(a)})
    tensors, digest = generated_weights(specs)
    for t in float_initializers(model):
        t.CopyFrom(numpy_helper.from_array(tensors[t.name], t.name))
    onnx.save(model, str(dst))
    # The skeleton: raw data dropped, external locations in one file.
    data_file = skeleton.stem + ".weights.bin"
    entries, offset = [], 0
    for t in float_initializers(model):
        length = tensors[t.name].nbytes
        t.ClearField("raw_data")
        t.ClearField("float_data")
        t.data_location = onnx.TensorProto.EXTERNAL
        del t.external_data[:]
        for k, v in (("location", data_file), ("offset", str(offset)), ("length", str(length))):
            e = t.external_data.add()
            e.key, e.value = k, v
        entries.append({"name": t.name, "offset": offset, "bytes": length})
        offset += (length + 63) // 64 * 64
    onnx.save(model, str(skeleton))
    return {"specs": specs, "sha256": digest}, {"data_file": data_file, "tensors": entries}


def file_list(out):
    files = []
    for p in sorted(out.rglob("*")):
        if p.is_file() and p.name not in ("bundle.json", "README.md"):
            files.append({"path": str(p.relative_to(out)), "bytes": p.stat().st_size,
                          "sha256": hashlib.sha256(p.read_bytes()).hexdigest()})
    return files


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--batch", type=int, default=2, help="batch of the numerics models (default 2)")
    ap.add_argument("--latency-batch", type=int, default=32)
    ap.add_argument("--only", help="comma-separated model names (default: all)")
    ap.add_argument("--parts", default=",".join(PARTS),
                    help=f"comma-separated parts to build (default: all of {','.join(PARTS)})")
    ap.add_argument("--training-target", default="cuda", choices=["cuda", "cpu"],
                    help="target of the trainers under test (cpu: a dry run of the training step here)")
    args = ap.parse_args()
    parts = set(args.parts.split(","))
    if parts - set(PARTS):
        ap.error(f"--parts: unknown {sorted(parts - set(PARTS))} (there are {', '.join(PARTS)})")
    start = time.monotonic()
    tools = Tools()
    out = pathlib.Path(args.out).resolve()
    if out.exists():
        shutil.rmtree(out)
    (out / "bin").mkdir(parents=True)
    work = REPO / "build" / "gpu-bundle-work"
    work.mkdir(parents=True, exist_ok=True)
    cache = REPO / "build" / "real-models"
    only = set(args.only.split(",")) if args.only else None
    say(f"gpu-bundle: tools {tools.build}, CUDA runtime {tools.runtime_build} "
        f"(MPC_CUDA_PROFILE {'yes' if tools.profiling else 'NO'}), out {out}")
    shutil.copy(tools.probe, out / "bin" / "mpc-cuda-probe")
    subprocess.run(["strip", "--strip-unneeded", str(out / "bin" / "mpc-cuda-probe")], check=False)
    meta = {"format": "mpc-gpu-bundle-1", "created": time.strftime("%Y-%m-%d %H:%M:%S"),
            "git": subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                                  capture_output=True, text=True).stdout.strip(),
            "tools": str(tools.build), "cuda_runtime": str(tools.runtime_build),
            "profiling": tools.profiling, "models": [], "latency": [], "not_shipped": []}
    import onnx

    for name, source, weights, tolerances, generators in NUMERICS:
        if (only and name not in only) or "numerics" not in parts:
            continue
        say(f"== {name}")
        mdir = out / "models" / name
        mdir.mkdir(parents=True)
        try:
            src = exported(source[5:], cache) if str(source).startswith("real:") else pathlib.Path(source)
        except Exception as e:
            say(f"  skipped: {e}")
            meta["not_shipped"].append(f"{name}: {e}")
            continue
        entry = {"name": name, "dir": f"models/{name}", "batch": args.batch, "weights": weights,
                 "tolerance": {"fp32": 1e-4, **tolerances}, "builds": {}, "inputs": {},
                 "low_precision_differs": {"fp16": name != "gpt2"}}
        model_path = src
        if weights == "regen":
            model_path = work / f"{name}.regen.onnx"
            regen, skel = regenerate(src, model_path, mdir / f"{name}.graph.onnx")
            entry["weights_regen"] = regen
            entry["onnx_external"] = {"graph": f"models/{name}/{name}.graph.onnx", **skel}
            meta["not_shipped"].append(
                f"{name}: weights ({sum(t['bytes'] for t in skel['tensors']) / 2**20:.1f} MiB) are "
                "not shipped: gpu_check.py regenerates them (deterministic, same mean/std per tensor "
                "as the export; sha256 checked) for the runners (--weights .safetensors) and "
                "for onnxruntime (the graph's external data)")
        elif src.stat().st_size <= ONNX_SHIP_LIMIT:
            shutil.copy(src, mdir / f"{name}.onnx")
            entry["onnx"] = f"models/{name}/{name}.onnx"
        else:
            meta["not_shipped"].append(f"{name}: {src.name} too big; only onnxruntime's outputs from here")
        model = onnx.load(str(model_path), load_external_data=False)
        inputs = make_inputs(model, args.batch, generators, np.random.default_rng(1))
        (mdir / "inputs").mkdir()
        for k, v in inputs.items():
            np.save(mdir / "inputs" / f"{k}.npy", v)
            entry["inputs"][k] = f"inputs/{k}.npy"
        ref = onnxruntime_outputs(model_path, inputs)
        (mdir / "ref_onnxruntime_fp32").mkdir()
        for k, v in ref.items():
            np.save(mdir / "ref_onnxruntime_fp32" / f"{k}.npy", v)
        for prec in PRECISIONS:
            refdir = mdir / f"ref_cpu_{prec}"
            cmd = [tools.run, model_path, "--precision", prec, "--output-dir", refdir]
            for k in inputs:
                cmd += ["--input", f"{k}={mdir / 'inputs' / (k + '.npy')}"]
            rc, o, e, secs = sh(cmd)
            build = {}
            if rc != 0:
                build["cpu_reference_error"] = last_error(e, o)
                say(f"  {prec}: mpc-run FAILED: {build['cpu_reference_error']}")
            build.update(build_runner(tools, model_path, name, prec, args.batch, weights, mdir, work, []))
            entry["builds"][prec] = build
            if prec in CUDNN_ATTENTION.get(name, []):
                entry["builds"][f"{prec}+cudnn"] = build_runner(
                    tools, model_path, name, prec, args.batch, weights, mdir, work,
                    IMPL_FLAGS["mpc+cudnn"], tag="_cudnn")
        if name in CONV_MODELS:
            entry["conv_builds"] = {"fp32": conv_builds(tools, model_path, name, mdir, args.batch,
                                                        weights != "embedded", work, entry)}
        meta["models"].append(entry)

    if "training" in parts:
        meta["training"] = build_training(tools, out, work, only, args.training_target)
    if "throughput" in parts:
        meta["throughput"] = build_throughput(tools, out, work, only, cache, args.training_target)

    for name, source, inputs, impl in LATENCY:
        if (only and name not in only) or "latency" not in parts:
            continue
        say(f"== {name} (latency, batch {args.latency_batch}, bf16, --weights external, {impl})")
        entry = {"name": name, "batch": args.latency_batch, "precision": "bf16", "inputs": inputs,
                 "impl": impl}
        try:
            src = exported(source[5:], cache)
        except Exception as e:
            entry["error"] = str(e)
            meta["latency"].append(entry)
            continue
        model = onnx.load(str(src))
        from onnx import numpy_helper
        entry["stats"] = {t.name: tensor_stats(numpy_helper.to_array(t)) for t in float_initializers(model)}
        del model
        ldir = out / "latency"
        ldir.mkdir(exist_ok=True)
        suffix = "" if impl == "mpc" else "_" + impl.split("+")[1]
        runner = ldir / f"{name}_bf16_b{args.latency_batch}{suffix}"
        report = ldir / f"{runner.name}.kernels.json"
        error = tools.runner(src, "bf16", args.latency_batch, True, report, runner, work, IMPL_FLAGS[impl])
        if error:
            entry["error"] = error
            say(f"  NOT BUILT: {error}")
        else:
            entry.update(runner=f"latency/{runner.name}", kernel_report=f"latency/{report.name}")
            kernels = json.loads(report.read_text())["kernels"]
            say(f"  runner {runner.stat().st_size / 1024:.0f} KiB, {len(kernels)} kernels "
                f"({sum(k['strategy'] == 'cublaslt-gemm' for k in kernels)} cuBLASLt, "
                f"{sum(k['strategy'] == 'cudnn-attention' for k in kernels)} cuDNN attention); weights "
                f"({src.stat().st_size / 2**20:.0f} MiB as ONNX) not shipped")
        if impl == "mpc":
            meta["not_shipped"].append(f"{name}: weights not shipped; gpu_check.py writes random ones "
                                       "from the runner's --manifest (latency does not depend on values)")
        meta["latency"].append(entry)

    for name, source, inputs in CONV_LATENCY:
        if (only and name not in only) or "conv" not in parts:
            continue
        say(f"== {name} (convolutions: gemm and cudnn, batch {args.latency_batch}, fp32, "
            "--weights external)")
        try:
            src = exported(source[5:], cache)
        except Exception as e:
            meta.setdefault("conv_latency", []).append({"name": name, "error": str(e)})
            continue
        model = onnx.load(str(src))
        from onnx import numpy_helper
        stats = {t.name: tensor_stats(numpy_helper.to_array(t)) for t in float_initializers(model)}
        del model
        ldir = out / "latency"
        ldir.mkdir(exist_ok=True)
        for conv in CONV_STRATEGIES:
            entry = {"name": name, "batch": args.latency_batch, "precision": "fp32", "inputs": inputs,
                     "conv": conv, "impl": f"mpc --cuda-conv={conv}", "stats": stats}
            runner = ldir / f"{name}_fp32_b{args.latency_batch}_{conv}"
            report = ldir / f"{runner.name}.kernels.json"
            error = tools.runner(src, "fp32", args.latency_batch, True, report, runner, work,
                                 ["--cuda-conv", conv])
            if error:
                entry["error"] = error
                say(f"  {conv}: NOT BUILT: {error}")
            else:
                entry.update(runner=f"latency/{runner.name}", kernel_report=f"latency/{report.name}")
                kernels = json.loads(report.read_text())["kernels"]
                say(f"  {conv}: runner {runner.stat().st_size / 1024:.0f} KiB, {len(kernels)} kernels "
                    f"({sum(k['strategy'] == 'cudnn-conv' for k in kernels)} cuDNN)")
            meta.setdefault("conv_latency", []).append(entry)

    # kernel_report paths relative to the model dir for numerics entries
    meta["files"] = file_list(out)
    total = sum(f["bytes"] for f in meta["files"])
    meta["bytes"] = total
    (out / "bundle.json").write_text(json.dumps(meta, indent=1) + "\n")
    write_readme(out, meta)
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    say(f"\nbundle {out}: {len(meta['files']) + 2} files, {total / 2**20:.1f} MiB "
        f"(built in {time.monotonic() - start:.0f} s)")
    for n in meta["not_shipped"]:
        say(f"  not shipped: {n}")
    if total > 60 * 2**20:
        say("ERROR: the bundle exceeds 60 MiB: it will not fit the 64 MiB carry with the working tree")
        return 1
    return 0


def conv_builds(tools, model_path, name, mdir, batch, external, work, entry):
    """The fp32 runner of each convolution strategy: gemm is the numerics build (the default),
    cudnn one more runner."""
    builds = {"gemm": entry["builds"].get("fp32", {})}
    runner = mdir / f"{name}_fp32_cudnn"
    report = mdir / f"{runner.name}.kernels.json"
    error = tools.runner(model_path, "fp32", batch, external, report, runner, work,
                         ["--cuda-conv", "cudnn"])
    if error:
        report.unlink(missing_ok=True)
        say(f"  fp32 --cuda-conv=cudnn: runner NOT BUILT: {error}")
        builds["cudnn"] = {"error": error}
        return builds
    kernels = json.loads(report.read_text())["kernels"]
    builds["cudnn"] = {"runner": f"models/{name}/{runner.name}", "kernel_report": report.name,
                       "kernels": len(kernels),
                       "cudnn_convs": sum(k["strategy"] == "cudnn-conv" for k in kernels)}
    say(f"  fp32 --cuda-conv=cudnn: runner {runner.stat().st_size / 1024:.0f} KiB, {len(kernels)} "
        f"kernels ({builds['cudnn']['cudnn_convs']} cuDNN)")
    return builds


def write_readme(out, meta):
    lines = ["# mpc GPU bundle", "",
             f"Built {meta['created']} from git {meta['git']} by scripts/gpu-bundle.sh "
             f"(tools {meta['tools']}; CUDA runtime {meta['cuda_runtime']}, MPC_CUDA_PROFILE "
             f"{'supported' if meta['profiling'] else 'NOT supported'}).",
             "Run there: `scripts/gpu-check.sh BUNDLE LOGDIR` (docs/gpu-check.md).", "",
             "## Numerics models (batch %d)" % (meta["models"][0]["batch"] if meta["models"] else 0), "",
             "| model | weights | ONNX shipped | fp32 | bf16 | fp16 | tolerance bf16 / fp16 |",
             "|---|---|---|---|---|---|---|"]
    for m in meta["models"]:
        cells = []
        for p in PRECISIONS:
            b = m["builds"].get(p, {})
            cells.append(f"{b['kernels']} kernels" if b.get("runner") else f"NOT BUILT: {b.get('error', '?')[:80]}")
        shipped = "yes" if m.get("onnx") else ("graph only (weights regenerated)" if m.get("onnx_external") else "no")
        lines.append(f"| {m['name']} | {m['weights']} | {shipped} | " + " | ".join(cells) +
                     f" | {m['tolerance']['bf16']} / {m['tolerance']['fp16']} |")
    lines += ["", "Each model folder: `inputs/*.npy`, `ref_onnxruntime_fp32/` (onnxruntime CPU, here),",
              "`ref_cpu_<precision>/` (mpc-run, the CPU target), `<model>_<precision>` (CUDA runner) and",
              "`<model>_<precision>.kernels.json` (mpc-compile --kernel-report).", "",
              "## Latency models (bf16, --weights external, no weights shipped)", ""]
    for m in meta["latency"]:
        lines.append(f"- {m['name']} batch {m['batch']}: " +
                     (m["runner"] if m.get("runner") else f"NOT BUILT: {m.get('error')}"))
    lines += ["", "## Convolutions: --cuda-conv=gemm against --cuda-conv=cudnn (fp32)", ""]
    for m in meta["models"]:
        if "conv_builds" in m:
            b = m["conv_builds"]["fp32"]["cudnn"]
            lines.append(f"- {m['name']} batch {m['batch']}: " +
                         (f"{b['runner']} ({b['kernels']} kernels, {b['cudnn_convs']} cuDNN)"
                          if b.get("runner") else f"NOT BUILT: {b.get('error')}"))
    for m in meta.get("conv_latency", []):
        lines.append(f"- {m['name']} batch {m.get('batch')} {m.get('conv', '?')}: " +
                     (m["runner"] if m.get("runner") else f"NOT BUILT: {m.get('error')}"))
    lines += ["", f"## Training (batch {TRAIN_BATCH}, {TRAIN_STEPS} steps against the CPU trainer)", ""]
    for t in meta.get("training", []):
        lines.append(f"- {t['name']} {t['precision']} ({t['what']}): " +
                     (f"{t['trainer']}, tolerance {t['tolerance']} per step" if t.get("trainer")
                      else f"NOT BUILT: {t.get('error')}"))
    lines += ["", "Each training folder: the data (`*.npy`), and per precision the trainer, the CPU trainer's",
              f"log of the same {TRAIN_STEPS} steps (`ref_cpu.jsonl`) and its checkpoints after "
              f"{TRAIN_CPU_CHECKPOINT_STEP} and {TRAIN_STEPS} steps."]
    lines += ["", "## Training throughput (bf16, --weights external, against PyTorch AMP)", ""]
    for t in meta.get("throughput", []):
        lines.append(f"- {t['name']} batch {t['batch']}: " +
                     (f"{t['trainer']} ({t.get('kernels', '?')} kernels)" if t.get("trainer")
                      else f"NOT BUILT: {t.get('error')}"))
    lines += ["", "## Not shipped", ""] + [f"- {n}" for n in meta["not_shipped"]]
    lines += ["", f"Total: {meta['bytes'] / 2**20:.1f} MiB in {len(meta['files'])} files "
              "(bundle.json lists each with its size and sha256).", ""]
    (out / "README.md").write_text("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
