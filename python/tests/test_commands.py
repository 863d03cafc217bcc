"""mpc.commands spells each tool's command line; these need no built tool."""
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from mpc import commands  # noqa: E402


def test_mpc_run_passes_set_options_only():
    args = commands.mpc_run("bin/mpc-run", pathlib.Path("m.onnx"), {"x": "x.npy", "mask": pathlib.Path("m.npy")},
                            "out", precision="bf16", threads=2, extra=["--libm-math"])
    assert args == ["bin/mpc-run", "m.onnx", "--precision", "bf16", "--threads", "2", "--output-dir", "out",
                    "--input", "x=x.npy", "--input", "mask=m.npy", "--libm-math"]
    assert commands.mpc_run("r", "m.onnx", {}, "o") == ["r", "m.onnx", "--output-dir", "o"]


def test_mpc_run_mcpu():
    args = commands.mpc_run("r", "m.onnx", {}, "o", mcpu="x86-64-v3")
    assert args == ["r", "m.onnx", "--mcpu", "x86-64-v3", "--output-dir", "o"]


def test_mpc_run_native_dot_products():
    args = commands.mpc_run("r", "m.onnx", {"x": "x.npy"}, "o", precision="bf16", native_dot_products=True)
    assert args == ["r", "m.onnx", "--precision", "bf16", "--output-dir", "o", "--native-dot-products",
                    "--input", "x=x.npy"]
    assert "--native-dot-products" not in commands.mpc_run("r", "m.onnx", {}, "o", precision="bf16")


def test_mpc_run_ranges_and_iterations_zero():
    args = commands.mpc_run("r", "m.onnx", {}, "o", ranges={"x": (-1.0, 2.5)}, iterations=0)
    assert args[args.index("--input-ranges") + 1] == "x:-1.0:2.5"
    assert args[args.index("--iterations") + 1] == "0"


def test_assign_precision_flag():
    assert commands.assign_precision("fp16") == "--mpc-assign-precision=policy=fp16"
    assert (commands.assign_precision("bf16", "greedy", "p.json", {"a": (0, 1), "b": (-2.0, 2.0)})
            == "--mpc-assign-precision=policy=bf16 strategy=greedy policy-file=p.json "
               "input-ranges=a:0:1,b:-2.0:2.0")
    with pytest.raises(ValueError, match="fp32, fp16, bf16"):
        commands.assign_precision("fp64")
    with pytest.raises(ValueError, match="mincut or greedy"):
        commands.assign_precision("fp16", "best")


def test_mpc_opt():
    assert (commands.mpc_opt("opt", "m.onnx", ["--mpc-insert-casts"], batch=8, output="/dev/null")
            == ["opt", "m.onnx", "--mpc-insert-casts", "--onnx-batch=8", "-o", "/dev/null"])


def test_mpc_compile():
    args = commands.mpc_compile("c", "m.onnx", "t", batch=32, optimizer="adamw", lr=0.003, betas=(0.9, 0.98),
                                nesterov=False, loss_output="logits", emit="obj")
    assert args == ["c", "m.onnx", "--train", "--target", "cpu", "-o", "t", "--batch", "32",
                    "--optimizer", "adamw", "--lr", "0.003", "--betas", "0.9,0.98", "--output", "logits",
                    "--emit=obj"]
    sgd = commands.mpc_compile("c", "m.onnx", "t", optimizer="sgd", momentum=0.9, nesterov=True,
                               extra=["--mcpu", "generic"])
    assert sgd[-5:] == ["--momentum", "0.9", "--nesterov", "--mcpu", "generic"]


def test_mpc_compile_infer():
    args = commands.mpc_compile_infer("c", "m.onnx", "r", batch=4, precision="bf16", weights="external",
                                      emit="obj")
    assert args == ["c", "m.onnx", "--infer", "--target", "cpu", "-o", "r", "--batch", "4",
                    "--precision", "bf16", "--weights", "external", "--emit=obj"]


def test_runner():
    args = commands.runner("./r", {"x": "x.npy", "y": "y.npy"}, output_dir="out", weights="w.onnx",
                           iterations=10, warmup=0)
    assert args == ["./r", "--input", "x=x.npy", "--input", "y=y.npy", "--output-dir", "out",
                    "--weights", "w.onnx", "--iterations", "10", "--warmup", "0"]


def test_trainer():
    args = commands.trainer("./t", {"x": "x.npy", "label": "y.npy"}, steps=5, seed=0, shuffle=False,
                            log="l.jsonl")
    assert args == ["./t", "--data", "x=x.npy", "--data", "label=y.npy", "--seed", "0", "--log", "l.jsonl",
                    "--steps", "5", "--no-shuffle"]


def test_mpc_run_output_file():
    assert commands.mpc_run_output_file("logits") == "logits.npy"
    assert commands.mpc_run_output_file("layer/1:0") == "layer_1_0.npy"
