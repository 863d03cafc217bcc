//===- CPUTarget.cpp - what the CPU codegen needs to know of a CPU --------===//
#include "mpc/Codegen/CPU/CPUTarget.h"

#include "llvm/ADT/StringMap.h"

#include <algorithm>

namespace mpc {
namespace {
/// Each flag with its LLVM feature name, in the order summaries list them.
struct Flag {
  const char *name;
  bool CPUTarget::*member;
};
constexpr Flag kFlags[] = {
    {"avx", &CPUTarget::avx},
    {"avx2", &CPUTarget::avx2},
    {"fma", &CPUTarget::fma},
    {"f16c", &CPUTarget::f16c},
    {"avx512f", &CPUTarget::avx512f},
    {"avx512bf16", &CPUTarget::avx512bf16},
    {"avx512fp16", &CPUTarget::avx512fp16},
    {"avxneconvert", &CPUTarget::avxNeConvert},
    {"amx-bf16", &CPUTarget::amxBf16},
};

/// A [block x columns] f32 slice of the column operand per cache block:
/// 32 KiB, an L1 data cache of current x86 cores (see tileForCache).
constexpr int64_t kColumnBlockBytes = 32 * 1024;
constexpr int64_t kMaxTileRows = 8;
constexpr int64_t kTileReduction = 8;
} // namespace

CPUTarget CPUTarget::fromFeatures(llvm::ArrayRef<std::string> features) {
  llvm::StringMap<bool> enabled;
  for (llvm::StringRef feature : features)
    if (feature.size() > 1 && (feature[0] == '+' || feature[0] == '-'))
      enabled[feature.drop_front()] = feature[0] == '+';
  CPUTarget target;
  for (const Flag &flag : kFlags)
    target.*flag.member = enabled.lookup(flag.name);
  target.vectorBits = target.avx512f ? 512 : target.avx ? 256 : 128;
  target.vectorRegisters = target.avx512f ? 32 : 16;
  return target;
}

std::vector<std::string> CPUTarget::missingOn(const CPUTarget &host) const {
  std::vector<std::string> missing;
  for (const Flag &flag : kFlags)
    if (this->*flag.member && !(host.*flag.member))
      missing.push_back(flag.name);
  return missing;
}

std::string CPUTarget::summary() const {
  std::string text = std::to_string(vectorBits) + "-bit vectors x " + std::to_string(vectorRegisters) +
                     " registers";
  const char *separator = ", ";
  for (const Flag &flag : kFlags)
    if (this->*flag.member) {
      text += separator;
      text += flag.name;
      separator = " ";
    }
  return text;
}

RegisterTile registerTileFor(int64_t vectorBits, int64_t vectorRegisters) {
  int64_t lanes = std::max<int64_t>(1, vectorBits / 32);
  int64_t columnVectors = 2;
  // Each row holds `columnVectors` accumulators; the column vectors of one
  // reduction step and the broadcast row element need registers too.
  int64_t rows = (vectorRegisters - columnVectors - 1) / columnVectors;
  rows = std::clamp<int64_t>(rows, 1, kMaxTileRows);
  int64_t columns = columnVectors * lanes;
  return {rows, columns, kTileReduction, kColumnBlockBytes / (columns * 4)};
}

} // namespace mpc
