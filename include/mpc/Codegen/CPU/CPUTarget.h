//===- CPUTarget.h - what the CPU codegen needs to know of a CPU -*- C++ -*-===//
//
// The few properties of an x86 CPU that decide mpc's code (vector width,
// register count, conversion and dot-product instructions), read from
// LLVM's feature names, and the register tile a contraction gets from them.
// Target/CPU/TargetMachine.h resolves `--mcpu` into these.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_CODEGEN_CPU_CPUTARGET_H
#define MPC_CODEGEN_CPU_CPUTARGET_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mpc {

/// The vector ISA and the extensions mpc's code may use.
struct CPUTarget {
  /// Widest float vector (128: SSE, 256: AVX/AVX2, 512: AVX-512F) and the
  /// vector registers of that width (16, or 32 with AVX-512).
  int64_t vectorBits = 128;
  int64_t vectorRegisters = 16;
  bool avx = false, avx2 = false, fma = false, f16c = false, avx512f = false;
  bool avx512bf16 = false, avx512fp16 = false, avxNeConvert = false, amxBf16 = false;

  /// From LLVM feature names, each "+name" (enabled) or "-name"; the last
  /// mention of a name wins. Names mpc does not use are ignored. Implied
  /// features are not inferred: pass every enabled feature (as
  /// resolveCPU does), not a CPU's defining few.
  static CPUTarget fromFeatures(llvm::ArrayRef<std::string> features);

  /// The LLVM names of the features above that this target has and `host`
  /// lacks: code for this target would not run there.
  std::vector<std::string> missingOn(const CPUTarget &host) const;

  /// One line: "512-bit vectors x 32 registers, avx avx2 fma ...".
  std::string summary() const;
};

/// A contraction's register tile (TileAndVectorize): `rows` x `columns` f32
/// accumulators kept in registers over the reduction, `reduction` steps of
/// it unrolled per loop iteration, and `block` reduction steps per cache
/// block of the column operand in a long contraction.
struct RegisterTile {
  int64_t rows, columns, reduction, block;
};

/// The tile for `vectorBits`-wide vectors and `vectorRegisters` registers:
/// two vectors of columns, and as many rows (at most 8) as leave registers
/// for the column vectors and one broadcast row element. AVX-512 (512, 32):
/// 8 x 32; AVX2 (256, 16): 6 x 16; SSE (128, 16): 6 x 8. The cache block
/// keeps a [block x columns] f32 slice of the column operand at 32 KiB.
/// The tools still compile every CPU with AVX-512's tile: AVX2's no-spill
/// tiles ran ResNet-18 1.5-1.8x slower than the spilling 8 x 32 (Zen 5,
/// x86-64-v3 code; docs/benchmarks.md).
RegisterTile registerTileFor(int64_t vectorBits, int64_t vectorRegisters);

} // namespace mpc

#endif // MPC_CODEGEN_CPU_CPUTARGET_H
