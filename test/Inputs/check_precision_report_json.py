"""Checks a JSON precision report against schema version 1 (docs/precision-report.md).

Usage: check_precision_report_json.py REPORT.json [--casts N] [--op NODE=PRECISION ...]

Checks every documented field and its type, that the graph's references
resolve, and that the totals agree with the rows; exits non-zero with the
first problem found.
"""
import argparse
import json
import math
import sys

ROW_FIELDS = {
    "id": int, "function": (str, type(None)), "node": (str, type(None)), "op": str,
    "precision": (str, type(None)), "accumulator": (str, type(None)),
    "category": (str, type(None)), "reason": (str, type(None)), "details": dict,
    "low_precision": bool, "casts_in": int, "casts_out": int, "gemm_flops": int, "flops": int,
    "activation_bytes": int, "activation_bytes_f32": int, "time_s": (int, float),
    "time_f32_s": (int, float), "graph_node": (int, type(None)),
}
NODE_FIELDS = {"id": int, "kind": str, "function": str, "label": str,
               "precision": (str, type(None)), "op": (int, type(None))}
TOTAL_FIELDS = {
    "ops": int, "ops_per_precision": dict, "casts": int, "gemm_flops": int,
    "low_precision_gemm_flops": int, "low_precision_gemm_flops_share": (int, float, type(None)),
    "flops": int, "low_precision_flops": int, "low_precision_flops_share": (int, float, type(None)),
    "activation_bytes": int, "activation_bytes_f32": int, "bytes_saved": int, "cast_bytes": int,
    "time_s": (int, float), "time_f32_s": (int, float), "time_saved_s": (int, float),
    "cast_time_s": (int, float),
}
ROOFLINE_FIELDS = ["gemm_flops_per_s_f32", "gemm_flops_per_s_16bit", "gemm_flops_per_s_8bit",
                   "vector_flops_per_s", "bytes_per_s"]


def check_fields(where, obj, fields):
    for name, kind in fields.items():
        assert name in obj, f"{where}: missing '{name}'"
        # bool is an int in Python: only accept it where the schema says bool.
        value = obj[name]
        assert isinstance(value, kind) and (kind is bool or not isinstance(value, bool)), \
            f"{where}: '{name}' is {value!r}, expected {kind}"


def close(a, b):
    return math.isclose(a, b, rel_tol=1e-4, abs_tol=1e-15)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("report")
    parser.add_argument("--casts", type=int)
    parser.add_argument("--op", action="append", default=[], help="NODE=PRECISION")
    args = parser.parse_args()
    with open(args.report) as f:
        report = json.load(f)

    assert report["schema_version"] == 1, report.get("schema_version")
    ops, graph, totals = report["ops"], report["graph"], report["totals"]
    for i, row in enumerate(ops):
        check_fields(f"ops[{i}]", row, ROW_FIELDS)
        assert row["id"] == i
    for i, node in enumerate(graph["nodes"]):
        check_fields(f"graph.nodes[{i}]", node, NODE_FIELDS)
        assert node["id"] == i
        assert node["kind"] in ("input", "op", "cast", "output"), node
        if node["op"] is not None:
            assert ops[node["op"]]["graph_node"] == i, (node, ops[node["op"]])
    for edge in graph["edges"]:
        assert set(edge) == {"from", "to", "cast"}, edge
        assert 0 <= edge["from"] < edge["to"] < len(graph["nodes"]), edge
        kinds = {graph["nodes"][edge["from"]]["kind"], graph["nodes"][edge["to"]]["kind"]}
        assert edge["cast"] == ("cast" in kinds), edge
    check_fields("totals", totals, TOTAL_FIELDS)
    assert isinstance(report["notes"], list), report["notes"]
    assert all(isinstance(note, str) for note in report["notes"]), report["notes"]
    for name in ROOFLINE_FIELDS:
        assert report["roofline"][name] > 0, name

    # The totals are the rows' sums.
    assert totals["ops"] == len(ops)
    per_precision = {}
    for row in ops:
        per_precision[row["precision"]] = per_precision.get(row["precision"], 0) + 1
    assert totals["ops_per_precision"] == per_precision, (totals["ops_per_precision"], per_precision)
    for name in ("gemm_flops", "flops", "activation_bytes", "activation_bytes_f32"):
        assert totals[name] == sum(row[name] for row in ops), name
    for name in ("gemm_flops", "flops"):
        low = sum(row[name] for row in ops if row["low_precision"])
        assert totals["low_precision_" + name] == low, name
    assert totals["bytes_saved"] == totals["activation_bytes_f32"] - totals["activation_bytes"]
    assert close(totals["time_saved_s"], totals["time_f32_s"] - totals["time_s"])
    assert close(totals["time_f32_s"], sum(row["time_f32_s"] for row in ops))
    assert close(totals["time_s"], sum(row["time_s"] for row in ops) + totals["cast_time_s"])
    assert totals["casts"] == sum(n["kind"] == "cast" for n in graph["nodes"])

    if args.casts is not None:
        assert totals["casts"] == args.casts, totals["casts"]
    for spec in args.op:
        node, precision = spec.split("=")
        found = [row for row in ops if row["node"] == node]
        assert found, f"no op named {node}"
        assert all(row["precision"] == precision for row in found), found
    print(f"valid: {len(ops)} ops, {len(graph['nodes'])} nodes, {totals['casts']} casts")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as error:
        sys.exit(f"invalid precision report: {error}")
