// RUN: mpc-opt --mpc-bf16-memory-as-i16 %s | FileCheck %s

// A bf16 row copy (an im2col) in the LLVM dialect: the vector load and
// store move i16 vectors, bitcasts in between; scalar bf16 and other
// vectors are left alone.
// CHECK-LABEL: llvm.func @copy
// CHECK: %[[L:.+]] = llvm.load %arg0 {alignment = 2 : i64} : !llvm.ptr -> vector<16xi16>
// CHECK: %[[B:.+]] = llvm.bitcast %[[L]] : vector<16xi16> to vector<16xbf16>
// CHECK: %[[S:.+]] = llvm.bitcast %[[B]] : vector<16xbf16> to vector<16xi16>
// CHECK: llvm.store %[[S]], %arg1 {alignment = 2 : i64} : vector<16xi16>, !llvm.ptr
// CHECK: llvm.load %arg0 : !llvm.ptr -> bf16
// CHECK: llvm.load %arg0 : !llvm.ptr -> vector<16xf16>
// CHECK-NOT: xbf16>, !llvm.ptr
// CHECK: llvm.return
llvm.func @copy(%a: !llvm.ptr, %b: !llvm.ptr) {
  %v = llvm.load %a {alignment = 2 : i64} : !llvm.ptr -> vector<16xbf16>
  llvm.store %v, %b {alignment = 2 : i64} : vector<16xbf16>, !llvm.ptr
  %s = llvm.load %a : !llvm.ptr -> bf16
  llvm.store %s, %b : bf16, !llvm.ptr
  %h = llvm.load %a : !llvm.ptr -> vector<16xf16>
  llvm.store %h, %b : vector<16xf16>, !llvm.ptr
  llvm.return
}
