//===- Passes.td - precision passes ------------------------*- tablegen -*-===//
//
// Precision assignment: what every op computes in, the casts that follow, and
// the report.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_PRECISION_PASSES_TD
#define MPC_PRECISION_PASSES_TD

include "mlir/Pass/PassBase.td"

def AssignPrecisionPass : Pass<"mpc-assign-precision", "::mlir::ModuleOp"> {
  let summary = "Choose a compute precision for every mpc op";
  let description = [{
    Annotates every op that implements PrecisionOpInterface with
    `mpc.precision` (the element type it will compute and store in),
    `mpc.reason` (why), and, for accumulating ops, `acc_type`. Types are not
    changed; `mpc-insert-casts` does that.

    Policy fp32 keeps everything in f32. Policies fp16/bf16: compute-bound ops
    run in the low type with f32 accumulation; numerically sensitive ops stay
    in f32. Parameters and constants are cast once, so they never hold an op
    in f32. Followers and data movement are placed by the strategy:

    - `mincut` (default): exactly minimizes estimated op time plus cast cost
      over the two precisions, as an s-t minimum cut (docs/precision-policy.md
      describes the cost model);
    - `greedy`: the TF-AMP-style baseline, in program order: a follower takes
      the low type when every float operand produced at run time is already
      low; data movement takes the precision of its data.

    A policy file (`policy-file`, JSON, docs/precision-policy.md) pins ops by
    op name, node-name glob or region; its rules beat categories and the cut.

    Value ranges (`input-ranges`, `calibration-data`, parameters, constants)
    are propagated through every op; an op whose values may overflow (or
    entirely underflow) the low type is forced to f32, a hard constraint that
    only a policy-file override beats (docs/precision-range.md).
  }];
  let options = [
    Option<"policy", "policy", "::mpc::PrecisionPolicy", /*default=*/"::mpc::PrecisionPolicy::FP32",
           "precision policy", [{::llvm::cl::values(
             clEnumValN(::mpc::PrecisionPolicy::FP32, "fp32", "everything in f32"),
             clEnumValN(::mpc::PrecisionPolicy::FP16, "fp16", "compute-bound ops in f16"),
             clEnumValN(::mpc::PrecisionPolicy::BF16, "bf16", "compute-bound ops in bf16"))}]>,
    Option<"strategy", "strategy", "::mpc::PlacementStrategy",
           /*default=*/"::mpc::PlacementStrategy::MinCut",
           "how followers and data movement are placed", [{::llvm::cl::values(
             clEnumValN(::mpc::PlacementStrategy::MinCut, "mincut",
                        "minimum estimated op time plus cast cost (an s-t min-cut)"),
             clEnumValN(::mpc::PlacementStrategy::Greedy, "greedy",
                        "TF-AMP-style painting in program order"))}]>,
    Option<"policyFile", "policy-file", "std::string", /*default=*/"\"\"",
           "JSON file of overrides (docs/precision-policy.md)">,
    ListOption<"inputRanges", "input-ranges", "std::string",
               "NAME:LO:HI,... value ranges of graph inputs (docs/precision-range.md)">,
    Option<"calibrationData", "calibration-data", "std::string", /*default=*/"\"\"",
           "directory of NAME.npy, or comma-separated .npy files, giving graph "
           "inputs their observed ranges">,
  ];
}

def InsertCastsPass : Pass<"mpc-insert-casts", "::mlir::func::FuncOp"> {
  let summary = "Retype ops to their assigned precision and insert mpc.cast";
  let description = [{
    Every float operand of an op is cast to the op's `mpc.precision`, its float
    results take that element type, and function results are cast back to the
    function's declared types, so the function signature never changes. Each
    function is rewritten on its own: nothing outside its body changes.
  }];
}

def FoldCastsPass : Pass<"mpc-fold-casts", "::mlir::func::FuncOp"> {
  let summary = "Remove casts whose removal cannot change any value";
  let description = [{
    Folds identity casts, chains A->B->C where A->B is lossless (f16->f32->f16
    becomes nothing; f32->f16->f32 is kept), and casts of constants.
  }];
}

def PrecisionReportPass : Pass<"mpc-precision-report", "::mlir::ModuleOp"> {
  let summary = "Report what precision assignment decided for every op, and why";
  let description = [{
    One row per op: name (the ONNX node name when known; a parameter read is
    named after its parameter, `@fc.weight`), op, precision, accumulator,
    category, reason, the mpc.cast ops around it and its FLOPs; then totals
    (ops per precision, casts, FLOPs in low precision, activation bytes and
    roofline time saved against all-f32). Formats: a text table, JSON (schema
    in docs/precision-report.md), Graphviz DOT and a self-contained HTML page.

    `--mpc-precision-report` prints the table to stdout;
    `--mpc-precision-report=FILE` (or `output=FILE`) writes FILE in the format
    its extension names: .txt, .json, .dot or .html. `format=` overrides the
    extension (and makes stdout JSON, say); `auto`, the default, follows it.
  }];
  let options = [
    Option<"output", "output", "std::string", /*default=*/"\"-\"",
           "file to write the report to ('-' for stdout)">,
    Option<"format", "format", "::mpc::PrecisionReportFormat",
           /*default=*/"::mpc::PrecisionReportFormat::FromExtension",
           "report format", [{::llvm::cl::values(
             clEnumValN(::mpc::PrecisionReportFormat::FromExtension, "auto",
                        "from the output file's extension (stdout: text)"),
             clEnumValN(::mpc::PrecisionReportFormat::Text, "text", "an aligned table"),
             clEnumValN(::mpc::PrecisionReportFormat::JSON, "json",
                        "JSON (docs/precision-report.md)"),
             clEnumValN(::mpc::PrecisionReportFormat::Dot, "dot", "Graphviz DOT"),
             clEnumValN(::mpc::PrecisionReportFormat::HTML, "html",
                        "a self-contained HTML page"))}]>,
  ];
}

//===----------------------------------------------------------------------===//
// Debugging precision (mpc-debug)
//===----------------------------------------------------------------------===//

def ExposeIntermediatesPass : Pass<"mpc-expose-intermediates", "::mlir::ModuleOp"> {
  let summary = "Return every named intermediate value of @main, cast to f32";
  let description = [{
    Makes every float result of an op with an ONNX node name (`mpc.node`) an
    extra result of `@main`, in program order, so that a program can be
    compared value by value with another precision's. Casts are skipped (they
    belong to the op they convert for), and so are ops without operands
    (constants) and non-float results. A low-precision value is cast to f32
    first, so every precision returns the same types.

    Each such result carries `mpc.intermediate = {index, node, op, result,
    type, producers}`: its position in program order, the node and op it
    comes from, which of the op's results it is, the element type the op
    computed it in, and the indices of the exposed values the op reads
    (looking through casts). A value `@main` already returns (itself or cast
    to f32) gets the attribute on that result rather than a second result:
    bufferization's promotion of results to out-parameters crashes on a
    function that returns one value twice. Run CSE first for the same reason:
    a later CSE would merge two exposed copies of one value.
  }];
  let dependentDialects = ["::mpc::MpcDialect"];
}

#endif // MPC_PRECISION_PASSES_TD
