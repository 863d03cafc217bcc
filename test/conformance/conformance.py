#!/usr/bin/env python3
"""The ONNX conformance sweep: runs every ONNX backend *node* test through
mpc-run (fp32) and compares with the stored outputs.

Usage:
  test/conformance/conformance.py [--build-dir DIR] [--jobs N] [--filter REGEX]
                                  [--baseline-only] [--write-docs] [--check]

Node tests come from two sources (see node_tests for how duplicates are
merged); a test's id is "<source>/<test name>":
  pip     the installed onnx package's node test cases, written on first use
          into <build dir>/onnx-node-tests/<onnx version>/ by onnx_node_cases.py
  debian  Debian's libonnx-testdata (/usr/share/libonnx-testdata/data/node)

Each test is one of:
  pass         every test_data_set matches (floats: rtol 1e-4, atol 1e-5 and
               NaN at the same places; ints/bools exactly; shape and dtype equal)
  fail         wrong numbers, wrong shape/dtype, a timeout, or an error that is
               not a clear "unsupported"; a crash (exit by a signal) is a fail
               that is also listed on its own
  unsupported  mpc-run failed with a clear "not supported"/"unsupported" error
               (op, attribute, opset, data type) from the importer or runtime
  skipped      not run: an input or output is a sequence/optional/map, or the
               model uses an op that is not in the importer's op table at all
               (`mpc-translate --list-supported-ops`)

"Pass rate among tests whose ops mpc supports" is pass / (pass + fail).

--write-docs writes docs/conformance.md and test/conformance_baseline.json
(the ids of the passing tests, each with a digest of its model). --check exits 1
when a test of the baseline's pass list no longer passes or when any test
crashed (test/e2e/test_conformance.py runs the full sweep that way); a baseline
test whose model digest changed (another onnx package) is reported, not counted.
--baseline-only runs only the baseline's passing tests.
"""
import argparse
import concurrent.futures
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time

import onnx_node_cases

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))
from mpc import commands  # noqa: E402

DOCS = ROOT / "docs" / "conformance.md"
BASELINE = ROOT / "test" / "conformance_baseline.json"
DEBIAN_NODE_DIR = pathlib.Path("/usr/share/libonnx-testdata/data/node")
TIMEOUT_S = 60

# Failures explained by the test data rather than by mpc; still counted as
# failures, with the note shown in docs/conformance.md.
KNOWN_NOTES = {
    "debian/test_cast_FLOAT_to_BFLOAT16":
        "stored output truncates to bfloat16 (onnx 1.12 reference); mpc rounds to nearest "
        "even, as the Cast spec says and as ml_dtypes/onnxruntime do",
    "pip/test_averagepool_2d_ceil_last_window_starts_on_pad":
        "the case's expected output is written with 4 decimals (0.1511) and onnx checks it "
        "with rtol 1e-3; mpc's 0.15105554 is what onnxruntime computes",
}
# Attention built from ops on 16-bit tensors: the expected outputs round every
# intermediate to the 16-bit type (the reference runs each op in it), while
# mpc's fused intermediates stay f32; on test_attention_4d_fp16_expanded mpc's
# largest error against an f64 computation is 2.6e-4, the expected output's 4.7e-4.
KNOWN_NOTES.update({
    f"pip/test_attention_{case}_expanded":
        "expected output rounds each intermediate to 16 bits; mpc keeps fused intermediates in f32"
    for case in ("3d_causal_bf16", "4d_attn_mask_causal_bf16", "4d_causal_bf16", "4d_causal_fp16",
                 "4d_causal_padded_kv_bf16", "4d_fp16", "4d_gqa_causal_nonpad_decode_fp16",
                 "4d_gqa_with_past_and_present_fp16", "4d_padded_kv_bf16")})
RTOL, ATOL = 1e-4, 1e-5
SEQUENCE_VALUES = "sequence/optional/map input or output"

# What makes a failed run "unsupported" rather than a bug: the importer's and
# the runtime's wording for things mpc deliberately does not handle.
# "is supported only on constants": ops the importer folds on the host (Ceil,
# Floor, Not, And, Or, Xor) given data computed at run time; "supported only at
# opsets": an op whose row in the importer's table stops below the model's opset;
# "cannot feed": a graph input of a type mpc-run has no host array for;
# "could not upgrade": a model below opset 13 ONNX's version converter rejects.
UNSUPPORTED_RE = re.compile(
    r"not supported|unsupported|is supported only on constants|has no host representation"
    r"|supported only at opsets|which mpc-run cannot feed|version converter could not upgrade",
    re.IGNORECASE)


def _semantic_signature(model):
    """What a node test exercises: its graph (less names and doc strings) and
    the schema version each node resolves to under the model's opsets."""
    import onnx
    graph = onnx.GraphProto()
    graph.CopyFrom(model.graph)
    graph.name = graph.doc_string = ""
    for n in graph.node:
        n.doc_string = ""
    opsets = {o.domain or "ai.onnx": o.version for o in model.opset_import}
    versions = []
    for n in graph.node:
        try:
            versions.append(onnx.defs.get_schema(
                n.op_type, opsets.get(n.domain or "ai.onnx", 0), n.domain).since_version)
        except onnx.defs.SchemaError:
            versions.append(None)
    functions = [f.SerializeToString(deterministic=True) for f in model.functions]
    return graph.SerializeToString(deterministic=True), tuple(versions), tuple(functions)


def signature_hash(model):
    """A short stable digest of _semantic_signature: the baseline records it so
    that a test whose model changed upstream (a newer onnx package re-exports a
    case at a newer opset) is told apart from an mpc regression."""
    import hashlib
    h = hashlib.sha256()
    graph, versions, functions = _semantic_signature(model)
    h.update(graph)
    h.update(repr(versions).encode())
    for f in functions:
        h.update(f)
    return h.hexdigest()[:16]


def node_tests(build_dir, log=print):
    """{test id: directory}. Ids are "<source>/<test name>": "pip/..." for the
    installed onnx package's cases (generated into the build dir on first
    use, onnx_node_cases.py), "debian/..." for libonnx-testdata's stored
    tests. A name in both sources is kept once, as pip's, when the two models
    are the same test (same graph, same schema version for every node: the
    data sets, random draws, are not compared); otherwise both are kept, e.g.
    the same op at an older opset or with other attributes."""
    import onnx
    pip_dir = onnx_node_cases.ensure_cases(build_dir, log=log)
    pip = {}
    if pip_dir is not None:
        pip = {d.name: d for d in sorted(pip_dir.iterdir()) if (d / "model.onnx").is_file()}
    tests = {f"pip/{n}": d for n, d in pip.items()}
    if DEBIAN_NODE_DIR.is_dir():
        for d in sorted(DEBIAN_NODE_DIR.iterdir()):
            if not (d / "model.onnx").is_file():
                continue
            if d.name in pip:
                try:
                    same = (_semantic_signature(onnx.load(str(d / "model.onnx")))
                            == _semantic_signature(onnx.load(str(pip[d.name] / "model.onnx"))))
                except Exception:  # noqa: BLE001 - an unreadable model is run, and reported, as is
                    same = False
                if same:
                    continue
            tests[f"debian/{d.name}"] = d
    return tests


def onnx_version():
    import onnx
    return onnx.__version__


def source_of(test_id):
    return test_id.split("/", 1)[0]


def error_summary(stderr):
    """The error lines of mpc-run's stderr without the locations and paths."""
    # mpc-run's closing "could not load '<path>'" adds nothing but a path.
    lines = [l for l in stderr.splitlines() if "error" in l and "could not load '" not in l] \
        or stderr.strip().splitlines()[:1]
    out = []
    for l in lines:
        l = re.sub(r"^loc\(.*?\):\s*", "", l)
        l = re.sub(r"^.*?\.onnx:\s*", "", l)
        l = re.sub(r"^(mpc-run: )?error:\s*", "", l)
        out.append(l.strip())
    return " | ".join(out)[:400]


def model_op_label(ops):
    """The op a test is listed under: its op type, or the test's composite."""
    distinct = sorted(set(ops) - {"Constant"}) or sorted(set(ops))
    if len(distinct) == 1:
        return distinct[0]
    return "(multi-op: " + ",".join(distinct[:4]) + (",..." if len(distinct) > 4 else "") + ")"


def as_declared(array, value_info):
    """The array with the element type the model declares: old test data
    (onnx 1.12) stores bfloat16 tensors as their uint16 bits."""
    import onnx
    elem = value_info.type.tensor_type.elem_type
    if elem == onnx.TensorProto.BFLOAT16 and array.dtype.name == "uint16":
        import ml_dtypes
        return array.view(ml_dtypes.bfloat16)
    return array


def load_output(path):
    """An output .npy as numpy sees it. mpc-run (like ml_dtypes) writes
    float8_e5m2 with descr '<f1', a code np.load rejects: that header is read
    as bytes ('|u1', the same length) and the array viewed as float8_e5m2."""
    import io
    import numpy as np
    data = path.read_bytes()
    if b"'descr': '<f1'" not in data[:128]:
        return np.load(io.BytesIO(data))
    import ml_dtypes
    raw = np.load(io.BytesIO(data.replace(b"'descr': '<f1'", b"'descr': '|u1'", 1)))
    return raw.view(ml_dtypes.float8_e5m2)


def compare(name, expected, actual):
    """None when `actual` matches `expected`, else why not."""
    import numpy as np
    if actual.dtype.kind == "V" and actual.dtype.itemsize == expected.dtype.itemsize:
        actual = actual.view(expected.dtype)  # .npy stores bfloat16/fp8 as raw bytes
    if actual.shape != expected.shape:
        return f"{name}: shape {actual.shape} != expected {expected.shape}"
    if actual.dtype != expected.dtype:
        return f"{name}: dtype {actual.dtype} != expected {expected.dtype}"
    if expected.dtype.kind in "fcV" or expected.dtype.name in (
            "bfloat16", "float8_e4m3fn", "float8_e4m3fnuz", "float8_e5m2", "float8_e5m2fnuz"):
        e = expected.astype(np.float64)
        a = actual.astype(np.float64)
        if not np.array_equal(np.isnan(e), np.isnan(a)):
            return f"{name}: NaN at different positions"
        ok = np.isclose(a, e, rtol=RTOL, atol=ATOL, equal_nan=True)
        if not ok.all():
            bad = np.argwhere(~ok)
            idx = tuple(int(i) for i in bad[0])
            return (f"{name}: {len(bad)} of {e.size} elements differ; first at {idx}: "
                    f"got {float(a[idx])!r}, expected {float(e[idx])!r}")
        return None
    if not np.array_equal(actual, expected):
        bad = np.argwhere(actual != expected)
        idx = tuple(int(i) for i in bad[0]) if len(bad) else ()
        return f"{name}: {len(bad)} elements differ; first at {idx}"
    return None


def run_one(args):
    """Runs one node test; returns a dict with name, op, status, detail, crash."""
    name, test_dir, build_dir, supported_ops = args
    import numpy as np
    import onnx
    from onnx import numpy_helper

    result = {"name": name, "op": "?", "status": "fail", "detail": "", "crash": False}
    test_dir = pathlib.Path(test_dir)
    try:
        model = onnx.load(str(test_dir / "model.onnx"))
    except Exception as e:  # noqa: BLE001 - any load failure is the test's problem
        result.update(status="skipped", detail=f"model does not load: {e}")
        return result
    graph = model.graph
    ops = [n.op_type for n in graph.node]
    result["op"] = model_op_label(ops)
    result["signature"] = signature_hash(model)

    def is_tensor(vi):
        return vi.type.HasField("tensor_type")
    inits = {i.name for i in graph.initializer}
    inputs = [vi for vi in graph.input if vi.name not in inits]
    if not all(is_tensor(vi) for vi in list(inputs) + list(graph.output)):
        result.update(status="skipped", detail=SEQUENCE_VALUES)
        return result
    foreign = sorted({n.op_type for n in graph.node
                      if n.domain not in ("", "ai.onnx") or n.op_type not in supported_ops})
    if foreign:
        result.update(status="skipped", detail="op(s) not in the importer's table: " + ", ".join(foreign))
        return result

    data_sets = sorted(test_dir.glob("test_data_set_*"))
    if not data_sets:
        result.update(status="skipped", detail="no test data")
        return result
    mpc_run = pathlib.Path(build_dir) / "bin" / "mpc-run"
    with tempfile.TemporaryDirectory(prefix="mpc-conf-") as tmp:
        tmp = pathlib.Path(tmp)
        for ds in data_sets:
            work = tmp / ds.name
            work.mkdir()
            files = {}
            try:
                for i, vi in enumerate(inputs):
                    pb = ds / f"input_{i}.pb"
                    if not pb.exists():  # an omitted optional input
                        continue
                    t = onnx.TensorProto()
                    t.ParseFromString(pb.read_bytes())
                    array = as_declared(numpy_helper.to_array(t), vi)
                    dims = vi.type.tensor_type.shape.dim
                    declared = tuple(d.dim_value if d.HasField("dim_value") else -1 for d in dims)
                    if vi.type.tensor_type.HasField("shape") and -1 not in declared \
                            and declared != array.shape:
                        result.update(status="skipped", detail=(
                            f"test data of input '{vi.name}' has shape {array.shape}, "
                            f"the model declares {declared}"))
                        return result
                    files[vi.name] = work / f"in{i}.npy"
                    np.save(files[vi.name], array)
                expected = []
                for i, vo in enumerate(graph.output):
                    t = onnx.TensorProto()
                    t.ParseFromString((ds / f"output_{i}.pb").read_bytes())
                    expected.append((vo.name, as_declared(numpy_helper.to_array(t), vo)))
            except Exception as e:  # noqa: BLE001
                result.update(status="skipped", detail=f"test data not readable as tensors: {e}")
                return result
            cmd = commands.mpc_run(mpc_run, test_dir / "model.onnx", files, work / "out", precision="fp32")
            try:
                proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S,
                                      errors="replace")
            except subprocess.TimeoutExpired:
                result.update(status="fail", detail=f"timeout after {TIMEOUT_S} s")
                return result
            if proc.returncode < 0 or proc.returncode >= 128 and "Stack dump" in proc.stderr:
                sig = -proc.returncode if proc.returncode < 0 else proc.returncode - 128
                first = next((l for l in proc.stderr.splitlines() if l.strip()), "")
                result.update(status="fail", crash=True, detail=f"CRASH (signal {sig}): {first[:300]}")
                return result
            if proc.returncode != 0:
                err = error_summary(proc.stderr)
                status = "unsupported" if UNSUPPORTED_RE.search(proc.stderr) else "fail"
                result.update(status=status, detail=err)
                return result
            for out_name, exp in expected:
                path = work / "out" / commands.mpc_run_output_file(out_name)
                if not path.exists():
                    result.update(status="fail", detail=f"{ds.name}: no output {out_name}")
                    return result
                try:
                    actual = load_output(path)
                except Exception as e:  # noqa: BLE001 - an unreadable output fails the test
                    result.update(status="fail", detail=f"{ds.name}: output {out_name} "
                                                        f"does not load: {e}")
                    return result
                why = compare(out_name, exp, actual)
                if why:
                    result.update(status="fail", detail=f"{ds.name}: {why}")
                    return result
    result["status"] = "pass"
    return result


def supported_op_names(build_dir):
    text = subprocess.run([str(pathlib.Path(build_dir) / "bin" / "mpc-translate"),
                           "--list-supported-ops"], capture_output=True, text=True,
                          check=True).stdout
    return {m.group(1) for m in re.finditer(r"^\| (\w+) \| \d", text, re.MULTILINE)}


def tabulate(results):
    per_op = {}
    for r in results:
        row = per_op.setdefault(r["op"], {"pass": 0, "fail": 0, "unsupported": 0, "skipped": 0})
        row[r["status"]] += 1
    return per_op


def totals(results):
    t = {k: sum(r["status"] == k for r in results) for k in ("pass", "fail", "unsupported", "skipped")}
    t["crash"] = sum(r["crash"] for r in results)
    t["tests"] = len(results)
    supported = t["pass"] + t["fail"]
    t["rate"] = 100.0 * t["pass"] / supported if supported else 0.0
    return t


SOURCES = {"pip": "onnx pip package's cases", "debian": "Debian libonnx-testdata"}


def totals_rows(results):
    """[(label, totals)]: one row per source, then the combined set."""
    rows = []
    for src, label in SOURCES.items():
        mine = [r for r in results if source_of(r["name"]) == src]
        if mine:
            rows.append((f"{src} ({label})", totals(mine)))
    rows.append(("combined", totals(results)))
    return rows


def debian_goal(results):
    """(passing, total) over every node test of Debian's libonnx-testdata, the
    measure of #16's goal: each counts with its own result, or with pip's for a
    Debian test kept once as pip's (the same test); an unsupported, skipped or
    unrun test is not a pass."""
    if not DEBIAN_NODE_DIR.is_dir():
        return None
    status = {r["name"]: r["status"] for r in results}
    names = [d.name for d in DEBIAN_NODE_DIR.iterdir() if (d / "model.onnx").is_file()]
    passing = sum(status.get(f"debian/{n}", status.get(f"pip/{n}")) == "pass" for n in names)
    return passing, len(names)


def goal_line(results):
    goal = debian_goal(results)
    if goal is None or not goal[1]:
        return None
    passing, total = goal
    return (f"Debian libonnx-testdata, every test counted (unsupported and skipped as failures; "
            f"a test kept as pip's counts with pip's result): {passing}/{total} = "
            f"{100.0 * passing / total:.1f}% pass (goal: 80%)")


def report_lines(results, markdown):
    per_op = tabulate(results)
    lines = []
    # Ops with at least one test run come first; ops that were only skipped
    # are summarised in one line to keep the table readable.
    run_ops = sorted(op for op, c in per_op.items() if c["pass"] + c["fail"] + c["unsupported"])
    skipped_only = sorted(op for op in per_op if op not in run_ops)
    if markdown:
        lines += ["| ONNX op | pass | fail | unsupported | skipped |", "|---|---:|---:|---:|---:|"]
        for op in run_ops:
            c = per_op[op]
            lines.append(f"| {op} | {c['pass']} | {c['fail']} | {c['unsupported']} | {c['skipped']} |")
    else:
        lines.append(f"{'op':<40} {'pass':>5} {'fail':>5} {'unsup':>6} {'skip':>5}")
        for op in run_ops:
            c = per_op[op]
            lines.append(f"{op:<40} {c['pass']:>5} {c['fail']:>5} {c['unsupported']:>6} {c['skipped']:>5}")
    lines.append("")
    n_skip_only = sum(per_op[op]["skipped"] for op in skipped_only)
    lines.append(f"Skipped without running: {n_skip_only} tests of {len(skipped_only)} ops/graphs "
                 "that use an op outside the importer's table or sequence/optional values.")
    lines.append("")
    for label, t in totals_rows(results):
        lines.append(f"Totals, {label}: {t['tests']} tests: {t['pass']} pass, {t['fail']} fail "
                     f"({t['crash']} crashes), {t['unsupported']} unsupported, "
                     f"{t['skipped']} skipped; pass rate among tests whose ops mpc supports: "
                     f"{t['pass']}/{t['pass'] + t['fail']} = {t['rate']:.1f}%")
    if goal_line(results):
        lines.append(goal_line(results))
    return lines


UNSUPPORTED_KINDS = [
    (r"version converter could not upgrade",
     "model opset below 13 that ONNX's version converter cannot upgrade"),
    (r"opset \d+ of the default ONNX domain is not supported",
     "model opset above the importer's range (ops at opsets 22+; docs/supported-ops.md)"),
    (r"supported only at opsets", "op at an opset its importer does not handle (Range 27+)"),
    (r"which mpc-run cannot feed",
     "input type mpc-run cannot feed (float4e2m1, int4/uint4, float8 *fnuz, float8e8m0, ...)"),
    (r"must be a constant", "shape/axes/pads/split given as run-time data (must be constant)"),
    (r"unsupported dtype|element type \w+, which is not supported|casting to [\w ]+ is not supported",
     "data type (string, int2/int4, uint2/uint4, float4e2m1, float8 *fnuz, float8e8m0)"),
    (r"output #\d+ .* is used", "a second output (LayerNormalization Mean/InvStdDev, Dropout mask)"),
    (r"is supported only on constants", "host-only op (Ceil, Floor, And, Or, Not, Xor) on run-time data"),
    (r"training_mode", "training mode"),
    (r"dilated average pooling", "AveragePool with dilations"),
    (r"mode \"\w+\" is not supported", "Pad mode other than constant"),
]


# Why the ops the importer does not take are left out; docs/conformance.md
# counts the skipped tests per kind. An op in none of these is simply not
# built yet and is listed as such.
OUT_OF_REACH = [
    ("sequences and optionals",
     "a sequence's length and its elements' shapes are run-time values; mpc compiles tensors "
     "of static shape and its dialect has no sequence or optional type",
     {SEQUENCE_VALUES, "SequenceAt", "SequenceConstruct", "SequenceEmpty", "SequenceErase",
      "SequenceInsert", "SequenceLength", "SequenceMap", "SplitToSequence", "ConcatFromSequence",
      "Optional", "OptionalGetElement", "OptionalHasElement"}),
    ("strings",
     "no string tensors: text is tokenized before the model, outside the compiled program",
     {"StringNormalizer", "StringConcat", "StringSplit", "RegexFullMatch", "TfIdfVectorizer",
      "LabelEncoder"}),
    ("random numbers",
     "the expected outputs are one generator's draws, which no other generator reproduces",
     {"Bernoulli", "RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike",
      "Multinomial"}),
    ("output shape decided by the data",
     "the number of results depends on the values (mpc compiles static shapes): NonZero, "
     "Unique, NonMaxSuppression",
     {"NonZero", "Unique", "NonMaxSuppression"}),
    ("loops",
     "a run-time trip count or a scan over a dynamic sequence (If with a condition known at "
     "compile time is imported)",
     {"Loop", "Scan"}),
    ("optimizer ops (ai.onnx.preview.training)",
     "mpc's trainers build their own optimizer step (docs/training.md); in-graph optimizer "
     "ops are not imported",
     {"Adagrad", "Adam", "Momentum"}),
]


def skipped_kind(detail):
    """(kind, ops) for a skipped test's detail: kind None and the ops when
    they are not built yet; the detail itself as kind for a skip of another
    cause (test data the model does not declare, ...)."""
    prefix = "op(s) not in the importer's table: "
    ops = set(detail[len(prefix):].split(", ")) if detail.startswith(prefix) else {detail}
    for kind, _, members in OUT_OF_REACH:
        if ops & members:
            return kind, ops
    return (None, ops) if detail.startswith(prefix) else (detail, set())


def out_of_reach_lines(results):
    counts, later = {}, {}
    for r in results:
        if r["status"] != "skipped":
            continue
        kind, ops = skipped_kind(r["detail"])
        if kind is None:
            for op in ops:
                later[op] = later.get(op, 0) + 1
        else:
            counts[kind] = counts.get(kind, 0) + 1
    lines = ["", "## What stays out of reach", "",
             "Skipped tests by why their ops are not imported (a test counts once):", "",
             "| kind | tests | why |", "|---|---:|---|"]
    lines += [f"| {kind} | {counts[kind]} | {why} |" for kind, why, _ in OUT_OF_REACH if kind in counts]
    listed = {kind for kind, _, _ in OUT_OF_REACH}
    lines += [f"| other: {kind} | {n} | not run: the test's own files, not an op, stop it |"
              for kind, n in sorted(counts.items()) if kind not in listed]
    if later:
        lines += ["", "Not built yet (tests using each op; a test may use several): " +
                  ", ".join(f"{op} ({n})" for op, n in sorted(later.items())) + "."]
    return lines


def unsupported_kind(detail):
    for pattern, kind in UNSUPPORTED_KINDS:
        if re.search(pattern, detail):
            return kind
    return re.sub(r"node '[^']*' ", "", detail)[:100]


def write_docs(results):
    fails = sorted((r for r in results if r["status"] == "fail"), key=lambda r: r["name"])
    text = [
        "# ONNX conformance",
        "",
        "<!-- Generated by `test/conformance/conformance.py --write-docs`; do not edit by hand. -->",
        "",
        "Every ONNX backend *node* test run through `mpc-run --precision fp32` and compared",
        "with the expected outputs: floats with",
        f"rtol {RTOL:g}, atol {ATOL:g} and NaNs at the same places, integers and bools exactly,",
        "shapes and dtypes equal. The tests come from two sources:",
        "",
        "- **pip** (ids `pip/<test>`): the node test cases of the venv's onnx package",
        f"  (onnx {onnx_version()} here; `onnx.backend.test.case.node.collect_testcases()`), at that",
        "  package's opsets. The wheel ships the cases as code, not data:",
        "  `test/conformance/onnx_node_cases.py` writes each one as `model.onnx` +",
        "  `test_data_set_N/{input,output}_K.pb` under `<build>/onnx-node-tests/<onnx version>/`",
        "  on first use (a stamp file marks a complete cache; it is reused afterwards).",
        "- **debian** (ids `debian/<test>`): Debian's `libonnx-testdata`",
        "  (`/usr/share/libonnx-testdata/data/node`, onnx 1.12-era opsets).",
        "",
        "A test name found in both sources is kept once, as pip's, when both models are the same",
        "test: the same graph (names and doc strings aside) with every node resolving to the same",
        "operator schema version. Otherwise both are run: the Debian copy then tests an older",
        "opset version of the op (or other attributes). The data sets are not compared (many",
        "cases draw random inputs).",
        "",
        "One command runs the sweep and prints the tables (add `--write-docs` to regenerate this",
        "page and the baseline):",
        "",
        "```sh",
        "test/conformance/conformance.py --build-dir build --jobs 2 --write-docs",
        "```",
        "",
        "- **pass**: every test data set matches.",
        "- **fail**: wrong numbers/shape/dtype, a timeout, or an error that is not a clear",
        "  \"unsupported\"; a crash (exit by a signal) is a fail and is listed on its own.",
        "- **unsupported**: mpc-run stopped with a clear \"not supported\" error (op, attribute,",
        "  opset, data type, data-dependent shape).",
        "- **skipped**: not run, the model uses an op outside the importer's table",
        "  (`docs/supported-ops.md`) or a sequence/optional value.",
        "",
        "Pass rate among tests whose ops mpc supports = pass / (pass + fail).",
        "`test/conformance_baseline.json` lists the passing tests with a digest of each model;",
        "`--check` (which `test/e2e/test_conformance.py` runs, generating the pip cases when",
        "they are missing) fails when one of them regresses or anything crashes. A baseline test",
        "whose model is no longer the same (another onnx version re-exports a case at a newer",
        "opset) is reported as changed instead: regenerate the baseline after upgrading onnx.",
        "",
        "## Totals",
        "",
        "| source | tests | pass | fail | crash | unsupported | skipped | pass rate (supported) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ] + [
        f"| {label} | {t['tests']} | {t['pass']} | {t['fail']} | {t['crash']} | "
        f"{t['unsupported']} | {t['skipped']} | {t['pass']}/{t['pass'] + t['fail']} = "
        f"{t['rate']:.1f}% |" for label, t in totals_rows(results)
    ] + ([
        "",
        goal_line(results) + ". Only a run over every test measures this (a `--filter` run",
        "counts the tests it left out as failures).",
    ] if goal_line(results) else []) + [
        "",
        "## Per op",
        "",
    ]
    table = report_lines(results, markdown=True)
    text += table[:table.index("")]
    kinds = {}
    for r in results:
        if r["status"] == "unsupported":
            kinds[unsupported_kind(r["detail"])] = kinds.get(unsupported_kind(r["detail"]), 0) + 1
    text += ["", "## Why tests are unsupported", "", "| reason | tests |", "|---|---:|"]
    text += [f"| {k} | {v} |" for k, v in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))]
    text += out_of_reach_lines(results)
    text += ["", "## Failures", ""]
    if fails:
        text += ["| test | op | why |", "|---|---|---|"]
        for r in fails:
            detail = r["detail"].replace("|", "\\|").replace("\n", " ")[:200]
            note = f" ({KNOWN_NOTES[r['name']]})" if r["name"] in KNOWN_NOTES else ""
            text.append(f"| {r['name']} | {r['op']} | {'**CRASH** ' if r['crash'] else ''}{detail}{note} |")
    else:
        text.append("None.")
    DOCS.write_text("\n".join(text) + "\n")
    passed = sorted((r for r in results if r["status"] == "pass"), key=lambda r: r["name"])
    baseline = {
        "passed": len(passed),
        "per_source": {src: sum(source_of(r["name"]) == src for r in passed) for src in SOURCES},
        "onnx": onnx_version(),
        "tests": [r["name"] for r in passed],
        "signatures": {r["name"]: r["signature"] for r in passed},
    }
    BASELINE.write_text(json.dumps(baseline, indent=1) + "\n")
    print(f"wrote {DOCS.relative_to(ROOT)} and {BASELINE.relative_to(ROOT)}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build-dir", default=os.environ.get("MPC_BUILD_DIR", str(ROOT / "build")))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--filter", help="run only tests whose name matches this regex (re.search)")
    ap.add_argument("--baseline-only", action="store_true",
                    help="run only the tests the baseline lists as passing")
    ap.add_argument("--baseline", default=str(BASELINE),
                    help="the baseline --check and --baseline-only read (default: %(default)s)")
    ap.add_argument("--write-docs", action="store_true")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--verbose", "-v", action="store_true", help="print every test's result")
    args = ap.parse_args()

    build_dir = pathlib.Path(args.build_dir).resolve()
    if not (build_dir / "bin" / "mpc-run").exists():
        sys.exit(f"conformance: {build_dir}/bin/mpc-run not built")
    if args.write_docs and (args.filter or args.baseline_only):
        sys.exit("conformance: --write-docs needs the full sweep (no --filter/--baseline-only)")
    tests = node_tests(build_dir)
    if not tests:
        sys.exit("conformance: no ONNX node tests found (the venv's onnx package, "
                 "scripts/setup.sh, or apt-get install libonnx-testdata)")
    baseline_path = pathlib.Path(args.baseline)
    baseline = (json.loads(baseline_path.read_text()) if baseline_path.exists()
                else {"passed": 0, "tests": []})
    names = sorted(tests)
    if args.baseline_only:
        names = [n for n in names if n in set(baseline["tests"])]
    if args.filter:
        names = [n for n in names if re.search(args.filter, n)]
    supported = supported_op_names(build_dir)

    start = time.time()
    work = [(n, str(tests[n]), str(build_dir), supported) for n in names]
    with concurrent.futures.ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(run_one, work, chunksize=4))
    elapsed = time.time() - start

    if args.verbose:
        for r in results:
            print(f"{r['status']:<11} {r['name']:<60} {r['detail'][:150]}")
        print()
    for line in report_lines(results, markdown=False):
        print(line)
    print(f"({len(results)} tests in {elapsed:.0f} s with {args.jobs} jobs)")

    fails = [r for r in results if r["status"] == "fail"]
    if fails:
        print("\nFailures:")
        for r in fails:
            print(f"  {r['name']} [{r['op']}]: {r['detail'][:200]}")
    crashes = [r for r in results if r["crash"]]
    if crashes:
        print("\n!!! CRASHES (mpc-run exited by a signal) !!!")
        for r in crashes:
            print(f"  CRASH {r['name']} [{r['op']}]: {r['detail'][:300]}")

    if args.write_docs:
        write_docs(results)

    if args.check:
        status = {r["name"]: r["status"] for r in results}
        current = {r["name"]: r.get("signature") for r in results}
        recorded = baseline.get("signatures", {})
        changed = [n for n in baseline["tests"]
                   if n in current and n in recorded and recorded[n] != current[n]]
        if changed:
            print(f"\nnote: {len(changed)} baseline tests have another model than when the "
                  f"baseline was written (onnx {baseline.get('onnx', '?')} then, "
                  f"{onnx_version()} now), not counted as regressions; rerun --write-docs. "
                  f"E.g. {changed[0]}")
        regressions = [n for n in baseline["tests"]
                       if n in status and status[n] != "pass" and n not in changed]
        missing = [n for n in baseline["tests"] if n not in tests]
        if missing:
            print(f"\nnote: {len(missing)} baseline tests are not installed here, e.g. {missing[0]}")
        if regressions:
            print(f"\nREGRESSIONS: {len(regressions)} baseline tests no longer pass:")
            for n in regressions:
                print(f"  {n}")
        if regressions or crashes:
            return 1
        print("\ncheck: OK (no regressions against the baseline, no crashes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
