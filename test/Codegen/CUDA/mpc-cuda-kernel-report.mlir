// RUN: mpc-opt --mpc-cuda-kernel-report %s -o /dev/null | FileCheck %s --check-prefix=TEXT
// RUN: mpc-opt --mpc-cuda-kernel-report=format=json %s -o /dev/null | FileCheck %s --check-prefix=JSON
// RUN: mpc-opt "--mpc-cuda-kernel-report=format=json output=%t.json" %s -o /dev/null
// RUN: FileCheck %s --check-prefix=JSON < %t.json
// RUN: not mpc-opt --mpc-cuda-kernel-report=format=xml %s -o /dev/null 2>&1 | FileCheck %s --check-prefix=BAD

// TEXT: kernel strategy grid block read(B) written(B) flops onnx nodes / fused ops
// TEXT-NEXT: main_k0 elementwise-vector4 64 256 266240 131072 65536 /fc1/Gemm,/Relu [arith.addf arith.maximumf]
// TEXT-NEXT: main_k1 cublaslt-gemm - - 1000 500 4096 /fc2/Gemm [arith.mulf arith.addf]
// TEXT-NEXT: main_k2 cublaslt-gemm - - 1128 500 4160 /fc3/Gemm,/Relu_1 [arith.mulf arith.addf arith.maximumf] epilogue bias+relu
// TEXT-NEXT: 3 kernels, 268368 bytes read, 132072 bytes written, 73792 flops
// JSON: "kernels": [
// JSON: "block": 256,
// JSON: "bytes_read": 266240,
// JSON: "name": "main_k0",
// JSON: "onnx_nodes": [
// JSON-NEXT: "/fc1/Gemm",
// JSON-NEXT: "/Relu"
// JSON: "strategy": "cublaslt-gemm"
// JSON: "epilogue": "bias+relu",
// JSON: "name": "main_k2",
// BAD: error: mpc-cuda-kernel-report: format must be text or json, not 'xml'
module attributes {mpc.cuda_kernels = [
  {block = 256 : i64, bytes_read = 266240 : i64, bytes_written = 131072 : i64, flops = 65536 : i64,
   grid = 64 : i64, name = "main_k0", onnx_nodes = ["/fc1/Gemm", "/Relu"],
   ops = ["arith.addf", "arith.maximumf"], strategy = "elementwise-vector4"},
  {block = 0 : i64, bytes_read = 1000 : i64, bytes_written = 500 : i64, flops = 4096 : i64,
   grid = 0 : i64, name = "main_k1", onnx_nodes = ["/fc2/Gemm"], ops = ["arith.mulf", "arith.addf"],
   strategy = "cublaslt-gemm"},
  {block = 0 : i64, bytes_read = 1128 : i64, bytes_written = 500 : i64, flops = 4160 : i64,
   grid = 0 : i64, name = "main_k2", onnx_nodes = ["/fc3/Gemm", "/Relu_1"],
   ops = ["arith.mulf", "arith.addf", "arith.maximumf"], strategy = "cublaslt-gemm",
   epilogue = "bias+relu"}]} {
}
