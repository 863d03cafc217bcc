"""The onnx pip package's backend node test cases, written to disk the way
Debian's libonnx-testdata stores them, so that conformance.py (beside it) reads
both sources alike.

The wheel ships no stored node test data, only the code that produces it:
onnx.backend.test.case.node.collect_testcases() builds every case's model and
its (inputs, outputs) data sets in memory, at the package's own opsets. This
module writes each case as

    <cache>/<case name>/model.onnx
    <cache>/<case name>/test_data_set_N/input_K.pb, output_K.pb   (TensorProto)

under <build dir>/onnx-node-tests/<onnx version>/, once: a stamp file marks a
complete cache, and the cache is built in a temporary directory and renamed
into place so that a run that is interrupted (or two that race) never leaves a
half-written one behind.

A value that is not a tensor (a sequence, an optional, a map) is not written;
the sweep skips such cases by their graph's declared types.
"""
import os
import pathlib
import shutil
import tempfile
import warnings

STAMP = "complete.stamp"


def cache_dir(build_dir):
    import onnx
    return pathlib.Path(build_dir) / "onnx-node-tests" / onnx.__version__


def _as_tensor(value, name):
    """A TensorProto for one data value, or None for a sequence/optional/map."""
    import numpy as np
    import onnx
    from onnx import numpy_helper
    if isinstance(value, onnx.TensorProto):
        # Cases whose element type numpy cannot hold (float8, int4, ...) build
        # the TensorProto themselves.
        t = onnx.TensorProto()
        t.CopyFrom(value)
    elif isinstance(value, (np.ndarray, np.generic)):
        t = numpy_helper.from_array(np.asarray(value))
    else:
        return None
    t.name = name
    return t


def _write_case(case, dest):
    import onnx
    dest.mkdir()
    onnx.save(case.model, str(dest / "model.onnx"))
    graph = case.model.graph
    inits = {i.name for i in graph.initializer}
    input_names = [vi.name for vi in graph.input if vi.name not in inits]
    output_names = [vi.name for vi in graph.output]
    for n, (inputs, outputs) in enumerate(case.data_sets):
        ds = dest / f"test_data_set_{n}"
        ds.mkdir()
        for kind, names, values in (("input", input_names, inputs),
                                    ("output", output_names, outputs)):
            for k, value in enumerate(values):
                name = names[k] if k < len(names) else f"{kind}_{k}"
                t = _as_tensor(value, name)
                if t is not None:
                    (ds / f"{kind}_{k}.pb").write_bytes(t.SerializeToString())


def ensure_cases(build_dir, log=print):
    """The cache directory of the installed onnx's node test cases, generated
    when missing; None when onnx (or its backend test cases) is not importable."""
    try:
        import onnx  # noqa: F401
        from onnx.backend.test.case import node
    except ImportError:
        return None
    dest = cache_dir(build_dir)
    if (dest / STAMP).is_file():
        return dest
    log(f"generating the onnx pip package's node test cases into {dest} ...")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = pathlib.Path(tempfile.mkdtemp(prefix=".gen-", dir=dest.parent))
    try:
        # Some cases' reference code divides by zero or overflows on purpose.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cases = node.collect_testcases(None)
        for case in cases:
            _write_case(case, tmp / case.name)
        (tmp / STAMP).write_text(f"{len(cases)} node test cases of onnx {onnx.__version__}\n")
        if dest.exists():  # a stale cache without a stamp: an interrupted run
            shutil.rmtree(dest)
        try:
            os.rename(tmp, dest)
        except OSError:
            if not (dest / STAMP).is_file():  # not a concurrent run that won
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    log(f"wrote {len(cases)} cases")
    return dest
