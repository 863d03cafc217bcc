#!/usr/bin/env python3
"""The ONNX conformance sweep: runs every ONNX backend *node* test through
mpc-run (fp32) and compares with the stored outputs.

Usage:
  scripts/conformance.py [--build-dir DIR] [--jobs N] [--filter REGEX]
                         [--baseline-only] [--write-docs] [--check]

Node tests come from the onnx pip package's backend data dir
(onnx/backend/test/data/node, when that wheel ships it) and from Debian's
libonnx-testdata (/usr/share/libonnx-testdata/data/node), the pip copy winning
on a duplicate name.

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
(the names of the passing tests). --check exits 1 when a test of the baseline's
pass list no longer passes or when any test crashed (test/e2e/test_conformance.py
runs the full sweep that way). --baseline-only runs only the baseline's passing
tests.
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

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "conformance.md"
BASELINE = ROOT / "test" / "conformance_baseline.json"
DEBIAN_NODE_DIR = pathlib.Path("/usr/share/libonnx-testdata/data/node")
TIMEOUT_S = 60

# Failures explained by the test data rather than by mpc; still counted as
# failures, with the note shown in docs/conformance.md.
KNOWN_NOTES = {
    "test_cast_FLOAT_to_BFLOAT16":
        "stored output truncates to bfloat16 (onnx 1.12 reference); mpc rounds to nearest "
        "even, as the Cast spec says and as ml_dtypes/onnxruntime do",
}
RTOL, ATOL = 1e-4, 1e-5

# What makes a failed run "unsupported" rather than a bug: the importer's and
# the runtime's wording for things mpc deliberately does not handle.
# "is supported only on constants": ops the importer folds on the host (Ceil,
# Floor, Not, And, Or, Xor) given data computed at run time.
UNSUPPORTED_RE = re.compile(
    r"not supported|unsupported|is supported only on constants|has no host representation",
    re.IGNORECASE)


def node_test_dirs():
    """{test name: directory}, pip's data first, then libonnx-testdata's."""
    dirs = []
    try:
        import onnx
        dirs.append(pathlib.Path(onnx.__file__).parent / "backend" / "test" / "data" / "node")
    except ImportError:
        pass
    dirs.append(DEBIAN_NODE_DIR)
    tests = {}
    for base in dirs:
        if not base.is_dir():
            continue
        for d in sorted(base.iterdir()):
            if (d / "model.onnx").is_file() and d.name not in tests:
                tests[d.name] = d
    return tests


def output_file_name(name):
    """The file mpc-run writes for a graph output (it keeps [A-Za-z0-9_.-])."""
    return "".join(c if c.isalnum() or c in "_-." else "_" for c in name) + ".npy"


def error_summary(stderr):
    """The error lines of mpc-run's stderr without the locations and paths."""
    lines = [l for l in stderr.splitlines() if "error" in l] or stderr.strip().splitlines()[:1]
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

    def is_tensor(vi):
        return vi.type.HasField("tensor_type")
    inits = {i.name for i in graph.initializer}
    inputs = [vi for vi in graph.input if vi.name not in inits]
    if not all(is_tensor(vi) for vi in list(inputs) + list(graph.output)):
        result.update(status="skipped", detail="sequence/optional/map input or output")
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
            cmd = [str(mpc_run), str(test_dir / "model.onnx"), "--precision", "fp32",
                   "--output-dir", str(work / "out")]
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
                    path = work / f"in{i}.npy"
                    np.save(path, array)
                    cmd += ["--input", f"{vi.name}={path}"]
                expected = []
                for i, vo in enumerate(graph.output):
                    t = onnx.TensorProto()
                    t.ParseFromString((ds / f"output_{i}.pb").read_bytes())
                    expected.append((vo.name, as_declared(numpy_helper.to_array(t), vo)))
            except Exception as e:  # noqa: BLE001
                result.update(status="skipped", detail=f"test data not readable as tensors: {e}")
                return result
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
                path = work / "out" / output_file_name(out_name)
                if not path.exists():
                    result.update(status="fail", detail=f"{ds.name}: no output {out_name}")
                    return result
                why = compare(out_name, exp, np.load(path))
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


def report_lines(results, markdown):
    per_op = tabulate(results)
    t = totals(results)
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
    lines.append(f"Totals: {t['tests']} tests: {t['pass']} pass, {t['fail']} fail "
                 f"({t['crash']} crashes), {t['unsupported']} unsupported, {t['skipped']} skipped.")
    lines.append(f"Pass rate among tests whose ops mpc supports: {t['pass']}/{t['pass'] + t['fail']}"
                 f" = {t['rate']:.1f}%")
    return lines


UNSUPPORTED_KINDS = [
    (r"opset \d+ of the default ONNX domain is not supported", "model opset below 13"),
    (r"must be a constant", "shape/axes/pads/split given as run-time data (must be constant)"),
    (r"unsupported dtype|element type \w+, which is not supported|casting to \w+ is not supported",
     "data type (uint16/32/64, int16, string, ...)"),
    (r"output #\d+ .* is used", "a second output (LayerNormalization Mean/InvStdDev, Dropout mask)"),
    (r"is supported only on constants", "host-only op (Ceil, Floor, And, Or, Not, Xor) on run-time data"),
    (r"training_mode", "training mode"),
    (r"mode \"\w+\" is not supported", "Pad mode other than constant"),
]


def unsupported_kind(detail):
    for pattern, kind in UNSUPPORTED_KINDS:
        if re.search(pattern, detail):
            return kind
    return re.sub(r"node '[^']*' ", "", detail)[:100]


def write_docs(results):
    t = totals(results)
    fails = sorted((r for r in results if r["status"] == "fail"), key=lambda r: r["name"])
    text = [
        "# ONNX conformance",
        "",
        "<!-- Generated by `scripts/conformance.py --write-docs`; do not edit by hand. -->",
        "",
        "Every ONNX backend *node* test (onnx pip package's `backend/test/data/node` when the",
        "wheel ships it, and Debian's `libonnx-testdata`, deduplicated by name) run through",
        "`mpc-run --precision fp32` and compared with the stored outputs: floats with",
        f"rtol {RTOL:g}, atol {ATOL:g} and NaNs at the same places, integers and bools exactly,",
        "shapes and dtypes equal.",
        "",
        "```sh",
        "scripts/conformance.py --build-dir build --jobs 2 --write-docs",
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
        "`test/conformance_baseline.json` lists the passing tests; `--check` (which",
        "`test/e2e/test_conformance.py` runs) fails when one of them regresses or anything",
        "crashes. The sweep takes under a minute with `--jobs 2`.",
        "",
        "## Totals",
        "",
        f"| tests | pass | fail | crash | unsupported | skipped | pass rate (supported) |",
        "|---:|---:|---:|---:|---:|---:|---:|",
        f"| {t['tests']} | {t['pass']} | {t['fail']} | {t['crash']} | {t['unsupported']} | "
        f"{t['skipped']} | {t['pass']}/{t['pass'] + t['fail']} = {t['rate']:.1f}% |",
        "",
        "## Per op",
        "",
    ]
    table = report_lines(results, markdown=True)[:-4]
    while table and not table[-1]:
        table.pop()
    text += table
    kinds = {}
    for r in results:
        if r["status"] == "unsupported":
            kinds[unsupported_kind(r["detail"])] = kinds.get(unsupported_kind(r["detail"]), 0) + 1
    text += ["", "## Why tests are unsupported", "", "| reason | tests |", "|---|---:|"]
    text += [f"| {k} | {v} |" for k, v in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))]
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
    passed = sorted(r["name"] for r in results if r["status"] == "pass")
    BASELINE.write_text(json.dumps({"passed": len(passed), "tests": passed}, indent=1) + "\n")
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
    tests = node_test_dirs()
    if not tests:
        sys.exit("conformance: no ONNX node tests found (apt-get install libonnx-testdata)")
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
        regressions = [n for n in baseline["tests"] if n in status and status[n] != "pass"]
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
