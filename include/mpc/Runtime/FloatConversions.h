//===- FloatConversions.h - bit-exact f16/bf16 conversions ------*- C++ -*-===//
//
// Round-to-nearest-even conversions between f32/f64 and the 16-bit float
// formats, on bit patterns. Compiled code calls them under libgcc's names
// (__truncsfhf2 and friends) so that it never depends on which of those the
// host's libgcc happens to provide (GCC 12's lacks the bf16 ones).
//
//===----------------------------------------------------------------------===//
#ifndef MPC_RUNTIME_FLOATCONVERSIONS_H
#define MPC_RUNTIME_FLOATCONVERSIONS_H

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace mpc::runtime {

uint16_t floatToHalfBits(float value);
uint16_t doubleToHalfBits(double value);
float halfBitsToFloat(uint16_t bits);

uint16_t floatToBFloat16Bits(float value);
uint16_t doubleToBFloat16Bits(double value);
float bfloat16BitsToFloat(uint16_t bits);

/// (libcall name, address) for every conversion compiled code may call.
std::vector<std::pair<std::string, void *>> conversionLibcalls();

} // namespace mpc::runtime

#endif // MPC_RUNTIME_FLOATCONVERSIONS_H
