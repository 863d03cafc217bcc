// Straight after assignment (types still f32): precisions come from mpc.precision.
// RUN: mpc-opt %s --split-input-file --mpc-assign-precision=policy=bf16 --mpc-precision-report -o /dev/null | FileCheck %s --check-prefix=ASSIGNED
// After insert-casts: the same rows, and the casts are counted.
// RUN: mpc-opt %s --split-input-file --mpc-assign-precision=policy=bf16 --mpc-insert-casts --mpc-precision-report -o /dev/null | FileCheck %s --check-prefix=CASTS
// Without any assignment: the types the ops compute in, no reasons.
// RUN: mpc-opt %s --split-input-file --mpc-precision-report -o /dev/null | FileCheck %s --check-prefix=TYPES
// To a file instead of stdout (the whole file as one module: one report); the
// IR still goes to stdout.
// RUN: mpc-opt %s --mpc-assign-precision=policy=fp16 --mpc-precision-report=output=%t.txt | FileCheck %s --check-prefix=IR
// RUN: FileCheck %s --check-prefix=FILE --input-file=%t.txt
// RUN: not mpc-opt %s --mpc-precision-report=output=%t.missing/report.txt 2>&1 | FileCheck %s --check-prefix=BADFILE

// The bare FILE form; the format follows the extension.
// RUN: mpc-opt %s --mpc-assign-precision=policy=fp16 --mpc-precision-report=%t.bare.txt -o /dev/null
// RUN: FileCheck %s --check-prefix=FILE --input-file=%t.bare.txt
// RUN: mpc-opt %s --mpc-assign-precision=policy=bf16 --mpc-insert-casts --mpc-precision-report=%t.json -o /dev/null && FileCheck %s --check-prefix=JSON < %t.json
// RUN: %python %inputs/check_precision_report_json.py %t.json --casts 9 --op conv1=bf16 --op @fc.weight=f32 | FileCheck %s --check-prefix=JSONVALID
// RUN: %python -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['schema_version']==1 and d['totals']['casts']==9" %t.json
// RUN: mpc-opt %s --mpc-assign-precision=policy=bf16 --mpc-insert-casts --mpc-precision-report=output=%t.dot -o /dev/null && FileCheck %s --check-prefix=DOT < %t.dot
// RUN: mpc-opt %s --mpc-assign-precision=policy=bf16 --mpc-insert-casts --mpc-precision-report=%t.html -o /dev/null && FileCheck %s --check-prefix=HTML < %t.html
// RUN: %python %inputs/check_precision_report_html.py %t.html --ops 7 --casts 9
// The parameter read's location (the node that first read it) names it nowhere.
// RUN: not grep -l "fc.weight.read" %t.json %t.dot %t.html
// Offline: nothing the page refers to lives on a server.
// RUN: not grep -iE "https?://" %t.html
// format= names the format when the extension cannot (stdout, say), and
// overrides the extension; format=auto (the default) goes by the extension.
// RUN: mpc-opt %s --mpc-assign-precision=policy=bf16 --mpc-precision-report=format=json -o /dev/null | %python -c "import json,sys; assert json.load(sys.stdin)['schema_version']==1"
// RUN: mpc-opt %s --mpc-assign-precision=policy=bf16 --mpc-precision-report="output=%t.format.txt format=json" -o /dev/null
// RUN: %python -c "import json,sys; assert json.load(open(sys.argv[1]))['schema_version']==1" %t.format.txt
// RUN: mpc-opt %s --mpc-assign-precision=policy=fp16 --mpc-precision-report="output=%t.auto.txt format=auto" -o /dev/null
// RUN: FileCheck %s --check-prefix=FILE --input-file=%t.auto.txt
// The bare form inside a textual pipeline, too.
// RUN: mpc-opt %s --pass-pipeline='builtin.module(mpc-assign-precision{policy=fp16},mpc-precision-report{%t.pipeline.txt})' -o /dev/null
// RUN: FileCheck %s --check-prefix=FILE --input-file=%t.pipeline.txt
// RUN: not mpc-opt %s --mpc-precision-report=%t.xml -o /dev/null 2>&1 | FileCheck %s --check-prefix=BADEXT
// RUN: not mpc-opt %s --mpc-precision-report=format=yaml -o /dev/null 2>&1 | FileCheck %s --check-prefix=BADFORMAT
// FLOPs come from PrecisionOpInterface: the conv gradients are contractions.
// RUN: mpc-opt %S/Inputs/conv-grad-flops.mlir --mpc-assign-precision=policy=bf16 --mpc-precision-report -o /dev/null | FileCheck %s --check-prefix=GRAD
// A model upgraded from an older opset at import gets a note (text and JSON).
// RUN: mpc-opt %S/Inputs/upgraded-opset.mlir --mpc-assign-precision=policy=bf16 --mpc-precision-report -o /dev/null | FileCheck %s --check-prefix=UPGRADED
// UPGRADED: note: the model was saved at ONNX opset 9 and upgraded with ONNX's version converter at import
// RUN: mpc-opt %S/Inputs/upgraded-opset.mlir --mpc-assign-precision=policy=bf16 --mpc-precision-report=format=json -o /dev/null | FileCheck %s --check-prefix=UPGRADED-JSON
// UPGRADED-JSON: "notes": [
// UPGRADED-JSON-NEXT: "the model was saved at ONNX opset 9 and upgraded with ONNX's version converter at import"
// UPGRADED-JSON-NEXT: ]

// Node names: mpc.node first, else a name location, else "-"; a parameter
// read goes by its parameter's symbol, not by its location (which names the
// node that first read it). The follower's reason is the min-cut's to word.
// ASSIGNED: node{{ +}}op{{ +}}precision{{ +}}accumulator{{ +}}category{{ +}}casts{{ +}}flops{{ +}}reason
// ASSIGNED-NEXT: conv1{{ +}}mpc.conv{{ +}}bf16{{ +}}f32{{ +}}compute_bound{{ +}}0{{ +}}13824{{ +}}compute-bound: bf16 with f32 accumulation
// ASSIGNED-NEXT: relu1{{ +}}mpc.relu{{ +}}bf16{{ +}}-{{ +}}follow{{ +}}0{{ +}}256{{ +}}{{[^ -].*}}
// ASSIGNED-NEXT: @fc.weight{{ +}}mpc.get_parameter{{ +}}f32{{ +}}-{{ +}}data_movement{{ +}}0{{ +}}0{{ +}}source: stored in f32
// ASSIGNED-NEXT: fc{{ +}}mpc.matmul{{ +}}bf16{{ +}}f32{{ +}}compute_bound{{ +}}0{{ +}}1024{{ +}}compute-bound: bf16 with f32 accumulation
// ASSIGNED-NEXT: -{{ +}}mpc.softmax{{ +}}f32{{ +}}f32{{ +}}sensitive{{ +}}0{{ +}}64{{ +}}numerically sensitive: kept in f32
// ASSIGNED-EMPTY:
// ASSIGNED-NEXT: ops per precision: bf16=3 f32=2
// ASSIGNED-NEXT: casts: 0
// conv 2 * (1*4*8*8) * (3*3*3) = 13824, matmul 2 * (4*16) * 8 = 1024.
// ASSIGNED-NEXT: matmul/conv FLOPs in low precision: 14848 of 14848 (100.0%)
// Plus one per element of relu (256) and softmax (64).
// ASSIGNED-NEXT: all FLOPs in low precision (estimated): 15104 of 15168 (99.6%)
// Results of conv 256, relu 256, matmul 64 elements in bf16, softmax 64 in
// f32: 1408 bytes against 4 * 640 = 2560.
// ASSIGNED-NEXT: activation bytes: 1408 vs 2560 in f32 (saved 1152, 45.0%); cast results: 0
// Every op here is memory-bound on the reference machine (docs/precision-report.md):
// bytes moved at 3.35e12 B/s: conv (192 + 108 + 256) * 2, relu 256 * 2 * 2,
// matmul (32 + 128 + 64) * 2, softmax 64 * 2 * 4: 0.924 ns; the parameter read
// moves nothing.
// ASSIGNED-NEXT: estimated time (roofline): 0.0009242 us vs 0.001696 us in f32 (saved 0.0007713 us, 45.5%); casts: 0 us

// x, w, the image, the weight; relu back to f32 for the return, matmul to
// f32 for the softmax.
// Casts per op: feeding it plus reading it (the relu's result goes back to
// f32 for the return; the parameter is read through a cast).
// CASTS: conv1{{ +}}mpc.conv{{ +}}bf16{{ +}}f32{{ +}}compute_bound{{ +}}2{{ +}}13824
// CASTS-NEXT: relu1{{ +}}mpc.relu{{ +}}bf16{{ +}}-{{ +}}follow{{ +}}1{{ +}}256
// CASTS-NEXT: @fc.weight{{ +}}mpc.get_parameter{{ +}}f32{{ +}}-{{ +}}data_movement{{ +}}1{{ +}}0
// CASTS-NEXT: fc{{ +}}mpc.matmul{{ +}}bf16{{ +}}f32{{ +}}compute_bound{{ +}}3{{ +}}1024
// CASTS-NEXT: -{{ +}}mpc.softmax{{ +}}f32{{ +}}f32{{ +}}sensitive{{ +}}1{{ +}}64
// CASTS: ops per precision: bf16=3 f32=2
// CASTS-NEXT: casts: 6
// CASTS-NEXT: matmul/conv FLOPs in low precision: 14848 of 14848 (100.0%)
// The same activations; the casts' results (bf16 img 384, w 216, x 64,
// weight 256; f32 relu 1024, matmul 256) are counted apart.
// CASTS: activation bytes: 1408 vs 2560 in f32 (saved 1152, 45.0%); cast results: 2200
// CASTS-NEXT: estimated time (roofline): {{.+}} us vs 0.001696 us in f32 (saved {{.+}}); casts: {{[0-9.e-]+}} us

// TYPES: conv1{{ +}}mpc.conv{{ +}}f32{{ +}}f32{{ +}}compute_bound{{ +}}0{{ +}}13824{{ +}}-{{$}}
// TYPES: -{{ +}}mpc.softmax{{ +}}f32{{ +}}f32{{ +}}sensitive{{ +}}0{{ +}}64{{ +}}-{{$}}
// TYPES: ops per precision: f32=5
// TYPES-NEXT: casts: 0
// TYPES-NEXT: matmul/conv FLOPs in low precision: 0 of 14848 (0.0%)
// TYPES-NEXT: all FLOPs in low precision (estimated): 0 of 15168 (0.0%)
// TYPES-NEXT: activation bytes: 2560 vs 2560 in f32 (saved 0, 0.0%); cast results: 0

// IR-LABEL: func.func @model
// IR: mpc.conv {{.*}}mpc.precision = f16
// IR-NOT: matmul/conv FLOPs
// FILE: conv1{{ +}}mpc.conv{{ +}}f16{{ +}}f32{{ +}}compute_bound{{ +}}0{{ +}}13824{{ +}}compute-bound: f16 with f32 accumulation
// FILE: batched{{ +}}mpc.matmul{{ +}}f16
// FILE: ops per precision: f16=5 f32=2
// FILE: matmul/conv FLOPs in low precision: 17952 of 17952 (100.0%)

// GRAD: conv1{{ +}}mpc.conv_grad_input{{ +}}bf16{{ +}}f32{{ +}}compute_bound{{ +}}0{{ +}}13824{{ +}}compute-bound: bf16 with f32 accumulation
// GRAD-NEXT: conv1{{ +}}mpc.conv_grad_filter{{ +}}bf16{{ +}}f32{{ +}}compute_bound{{ +}}0{{ +}}13824{{ +}}compute-bound: bf16 with f32 accumulation
// GRAD: matmul/conv FLOPs in low precision: 27648 of 27648 (100.0%)
// GRAD-NEXT: all FLOPs in low precision (estimated): 27648 of 27648 (100.0%)

// BADFILE: error: mpc-precision-report: cannot write the report to '{{.*}}report.txt'
// BADEXT: error: mpc-precision-report: cannot tell the report format of '{{.*}}.xml' from its extension; valid extensions are .txt, .json, .dot and .html
// BADFORMAT: mpc-opt: for the --format option: unknown value 'yaml'; valid values are auto, text, json, dot and html

// The whole file under bf16 after insert-casts: 7 ops in two functions, 6 + 3
// casts.
// JSON: "schema_version": 1,
// JSON: "ops": [
// JSON: "id": 0,
// JSON-NEXT: "function": "model",
// JSON-NEXT: "node": "conv1",
// JSON-NEXT: "op": "mpc.conv",
// JSON-NEXT: "precision": "bf16",
// JSON-NEXT: "accumulator": "f32",
// JSON-NEXT: "category": "compute_bound",
// JSON-NEXT: "reason": "compute-bound: bf16 with f32 accumulation",
// JSON-NEXT: "details": {},
// JSON-NEXT: "low_precision": true,
// JSON-NEXT: "casts_in": 2,
// JSON-NEXT: "casts_out": 0,
// JSON-NEXT: "gemm_flops": 13824,
// JSON-NEXT: "flops": 13824,
// JSON-NEXT: "activation_bytes": 512,
// JSON-NEXT: "activation_bytes_f32": 1024,
// JSON-NEXT: "time_s": {{[0-9.e-]+}},
// JSON-NEXT: "time_f32_s": {{[0-9.e-]+}},
// JSON-NEXT: "graph_node": [[CONV:[0-9]+]]
// JSON: "node": "@fc.weight",
// JSON-NEXT: "op": "mpc.get_parameter",
// JSON: "casts_in": 0,
// JSON-NEXT: "casts_out": 1,
// JSON: "node": null,
// JSON-NEXT: "op": "mpc.softmax",
// JSON-NEXT: "precision": "f32",
// JSON: "node": "batched",
// JSON: "graph": {
// JSON-NEXT: "nodes": [
// JSON: "id": [[CONV]],
// JSON-NEXT: "kind": "op",
// JSON-NEXT: "function": "model",
// JSON-NEXT: "label": "mpc.conv",
// JSON-NEXT: "precision": "bf16",
// JSON-NEXT: "op": 0
// JSON: "edges": [
// JSON: "totals": {
// JSON-NEXT: "ops": 7,
// JSON-NEXT: "ops_per_precision": {
// JSON-NEXT: "bf16": 5,
// JSON-NEXT: "f32": 2
// JSON-NEXT: },
// JSON-NEXT: "casts": 9,
// JSON-NEXT: "gemm_flops": 17952,
// JSON-NEXT: "low_precision_gemm_flops": 17952,
// JSON-NEXT: "low_precision_gemm_flops_share": 1,
// JSON: "roofline": {
// JSON-NEXT: "gemm_flops_per_s_f32": 6.7e+13,
// JSONVALID: valid: 7 ops, 25 nodes, 9 casts

// DOT: digraph mpc_precision {
// DOT: subgraph cluster_0 {
// DOT-NEXT: label="@model";
// DOT-NEXT: n{{[0-9]+}} [label="%arg0\nf32", shape=ellipse
// DOT: [label="mpc.cast\nf32 -> bf16", shape=diamond, style=filled, fillcolor="#ffffff", color="#d62728"
// DOT: n[[CONV:[0-9]+]] [label="mpc.conv\nconv1\nbf16", fillcolor="#fd8d3c", tooltip="compute-bound: bf16 with f32 accumulation"];
// DOT-NEXT: n[[RELU:[0-9]+]] [label="mpc.relu\nrelu1\nbf16", fillcolor="#fd8d3c"
// DOT: [label="mpc.get_parameter\n@fc.weight\nf32", fillcolor="#9ecae1"
// DOT: [label="mpc.softmax\nf32", fillcolor="#9ecae1"
// DOT: [label="return", shape=ellipse
// DOT: subgraph cluster_1 {
// DOT-NEXT: label="@typed";
// DOT: n{{[0-9]+}} -> n[[CONV]] [color="#d62728", style=dashed];
// DOT: n[[CONV]] -> n[[RELU]];
// DOT: subgraph cluster_legend {
// DOT: [label="bf16", fillcolor="#fd8d3c"];
// DOT-NEXT: [label="f32", fillcolor="#9ecae1"];
// DOT-NEXT: legend_cast [label="mpc.cast", shape=diamond

// HTML: <!DOCTYPE html>
// HTML: <style>
// HTML: <h2>Totals</h2>
// HTML: <tr><td>casts</td><td>9</td></tr>
// HTML: <table id="ops">
// HTML: <tr id="row-0" data-row="0" data-precision="bf16">{{.*}}<td>conv1</td><td>mpc.conv</td>{{.*}}bf16</td><td>f32</td><td>compute_bound</td><td class="num casts-some" data-value="2">2</td>
// HTML: <td>@fc.weight</td><td>mpc.get_parameter</td>
// HTML: <h2>Graph of @model</h2>
// HTML: <svg width=
// HTML: <line class="edge-cast"
// HTML: <g class="node" id="node-{{[0-9]+}}"><title>f32 -&gt; bf16</title><polygon class="cast"
// HTML: <g class="node" id="node-{{[0-9]+}}" data-row="0"><title>mpc.conv conv1{{$}}
// HTML: <rect {{.*}} fill="#fd8d3c"/><text {{.*}}>mpc.conv</text><text class="sub" {{.*}}>conv1 · bf16</text></g>
// HTML: <h2>Graph of @typed</h2>
// HTML: <script>
// HTML: </html>

mpc.parameter @"fc.weight" : tensor<8x16xf32> = dense<0.5> : tensor<8x16xf32>

func.func @model(%img: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %x: tensor<4x8xf32>) -> (tensor<1x4x8x8xf32>, tensor<4x16xf32>) {
  %c = mpc.conv %img, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64, mpc.node = "conv1"} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32>
  %r = mpc.relu %c {mpc.node = "relu1"} : tensor<1x4x8x8xf32>
  %fw = mpc.get_parameter @"fc.weight" : tensor<8x16xf32> loc("fc.weight.read")
  %mm = mpc.matmul %x, %fw : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32> loc("fc")
  %s = mpc.softmax %mm {axis = 1 : i64} : tensor<4x16xf32>
  return %r, %s : tensor<1x4x8x8xf32>, tensor<4x16xf32>
}

// -----

// A grouped conv and a batched matmul whose operands are already low: without
// assignment the low share is the matmul's alone.
// ASSIGNED: grouped{{ +}}mpc.conv{{ +}}bf16
// ASSIGNED: ops per precision: bf16=2
// ASSIGNED-NEXT: casts: 0
// ASSIGNED-NEXT: matmul/conv FLOPs in low precision: 3104 of 3104 (100.0%)

// Depthwise conv 2 * (1*4*6*6) * (1*3*3) = 2592 (each output reads one
// C/group = 1 channel filter); batched matmul 2 * (2*4*4) * 8 = 512.
// TYPES: grouped{{ +}}mpc.conv{{ +}}f32{{ +}}f32
// TYPES: batched{{ +}}mpc.matmul{{ +}}bf16{{ +}}f32{{ +}}compute_bound{{ +}}0{{ +}}512{{ +}}-{{$}}
// TYPES: ops per precision: bf16=1 f32=1
// TYPES-NEXT: casts: 0
// TYPES-NEXT: matmul/conv FLOPs in low precision: 512 of 3104 (16.5%)
func.func @typed(%img: tensor<1x4x8x8xf32>, %w: tensor<4x1x3x3xf32>, %a: tensor<2x4x8xbf16>, %b: tensor<8x4xbf16>) -> (tensor<1x4x6x6xf32>, tensor<2x4x4xbf16>) {
  %c = mpc.conv %img, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 4 : i64, mpc.node = "grouped"} : (tensor<1x4x8x8xf32>, tensor<4x1x3x3xf32>) -> tensor<1x4x6x6xf32>
  %mm = mpc.matmul %a, %b {mpc.node = "batched"} : (tensor<2x4x8xbf16>, tensor<8x4xbf16>) -> tensor<2x4x4xbf16>
  return %c, %mm : tensor<1x4x6x6xf32>, tensor<2x4x4xbf16>
}
