# -*- Python -*-
import os

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "MPC"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test", ".onnxtext"]
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "e2e"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.mpc_obj_root, "test")

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.mpc_tools_dir, append_path=True)

# Tests build their ONNX models with the project venv's python (onnx.helper,
# onnx.parser); %S/../Inputs holds the shared generators.
# use_default_substitutions() already maps %python to lit's own interpreter
# (Debian's /usr/bin/python3, whose onnx is too old); replace that entry.
python = os.environ.get("MPC_PYTHON", config.python_executable)
config.substitutions = [s for s in config.substitutions if s[0] != "%python"]
config.substitutions.append(("%python", python))
config.substitutions.append(("%inputs", os.path.join(config.test_source_root, "Inputs")))
config.substitutions.append(("%mpc_src_root", config.mpc_src_root))

tools = ["mpc-opt", "mpc-translate", "mpc-run", "mpc-debug", "mpc-compile"]
llvm_config.add_tool_substitutions(tools, [config.mpc_tools_dir])
if os.path.exists(os.path.join(config.mpc_tools_dir, "mpc-cuda-probe")):
    config.available_features.add("cuda-runtime")
    llvm_config.add_tool_substitutions(["mpc-cuda-probe"], [config.mpc_tools_dir])
try:
    import ctypes
    ctypes.CDLL("libcuda.so.1")
except OSError:
    config.available_features.add("no-cuda-driver")
# ptxas and fatbinary of a CUDA toolkit: the CUDA target's PTX checks and
# fatbinaries (the compiler itself needs no toolkit to emit PTX).
cuda_home = os.environ.get("CUDA_HOME") or "/usr/local/cuda"
if os.path.exists(os.path.join(cuda_home, "bin", "ptxas")):
    config.available_features.add("cuda-toolkit")
    config.substitutions.append(("%ptxas", os.path.join(cuda_home, "bin", "ptxas")))
if os.path.exists(os.path.join(config.mpc_tools_dir, "mpc-onnx-fuzzer")):
    config.available_features.add("fuzzer")
# What this host's CPU runs (mpc-run --print-target): tests that run code
# compiled for x86-64-v3 need AVX2 and FMA; none may assume AVX-512.
try:
    import subprocess
    host_target = subprocess.run([os.path.join(config.mpc_tools_dir, "mpc-run"), "--print-target"],
                                 capture_output=True, text=True, timeout=60).stdout
except (OSError, subprocess.SubprocessError):
    host_target = ""
if " avx2 fma" in host_target:
    config.available_features.add("host-avx2-fma")
