// RUN: mpc-opt --mpc-check-lowered-to-llvm --verify-diagnostics %s

llvm.func @ok(%x: f32) -> f32 {
  llvm.return %x : f32
}

// expected-error @below {{'func.func' was not lowered to the LLVM dialect}}
func.func @leftover(%x: f8E4M3FN) -> f8E4M3FN {
  // expected-error @below {{'arith.addf' was not lowered to the LLVM dialect}}
  %0 = arith.addf %x, %x : f8E4M3FN
  // expected-error @below {{'func.return' was not lowered to the LLVM dialect}}
  return %0 : f8E4M3FN
}
