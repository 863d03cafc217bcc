//===- FloatConversions.cpp - bit-exact f16/bf16 conversions --------------===//
#include "mpc/Runtime/FloatConversions.h"

#include <algorithm>
#include <cstring>

namespace mpc::runtime {
namespace {

template <typename To, typename From> To bitCast(From from) {
  static_assert(sizeof(To) == sizeof(From));
  To to;
  std::memcpy(&to, &from, sizeof(To));
  return to;
}

/// Narrows an IEEE binary float (f32 in uint32_t, f64 in uint64_t) to a
/// 16-bit format with `dstMantissa` fraction bits and bias `dstBias`, RNE.
template <typename Bits>
uint16_t narrow(Bits x, int srcMantissa, int srcBias, int dstMantissa, int dstBias) {
  constexpr int width = sizeof(Bits) * 8;
  const Bits signMask = Bits(1) << (width - 1);
  const uint16_t sign = (x & signMask) ? 0x8000 : 0;
  const Bits magnitude = x & ~signMask;
  const Bits srcInf = ((Bits(1) << (width - 1 - srcMantissa)) - 1) << srcMantissa;
  const uint32_t dstInf = ((1u << (15 - dstMantissa)) - 1) << dstMantissa;
  if (magnitude > srcInf) // NaN: keep it quiet and keep the payload's top bits
    return sign | dstInf | (1u << (dstMantissa - 1)) |
           static_cast<uint16_t>((magnitude >> (srcMantissa - dstMantissa)) & ((1u << dstMantissa) - 1));
  if (magnitude == srcInf)
    return sign | dstInf;

  const int biasedExp = static_cast<int>(magnitude >> srcMantissa);
  Bits mantissa = magnitude & ((Bits(1) << srcMantissa) - 1);
  if (biasedExp != 0)
    mantissa |= Bits(1) << srcMantissa;
  // value = mantissa * 2^(exp - srcMantissa)
  const int exp = biasedExp == 0 ? 1 - srcBias : biasedExp - srcBias;
  const int dstMinExp = 1 - dstBias;
  const int shift = srcMantissa - dstMantissa + std::max(0, dstMinExp - exp);
  if (shift >= width)
    return sign;
  Bits quotient = mantissa >> shift;
  const Bits remainder = mantissa & ((Bits(1) << shift) - 1), half = Bits(1) << (shift - 1);
  if (remainder > half || (remainder == half && (quotient & 1)))
    ++quotient;
  uint32_t result = static_cast<uint32_t>(quotient);
  // A normal quotient carries the implicit bit; adding it onto the exponent
  // field also handles a carry out of the mantissa.
  if (exp >= dstMinExp)
    result = (static_cast<uint32_t>(exp + dstBias - 1) << dstMantissa) + result;
  return sign | static_cast<uint16_t>(std::min(result, dstInf));
}

float widen(uint16_t bits, int mantissaBits, int bias) {
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000) << 16;
  const int expBits = 15 - mantissaBits;
  const uint32_t exp = (bits >> mantissaBits) & ((1u << expBits) - 1);
  const uint32_t mantissa = bits & ((1u << mantissaBits) - 1);
  uint32_t out;
  if (exp == (1u << expBits) - 1) {
    out = 0x7F800000 | (mantissa << (23 - mantissaBits));
  } else if (exp == 0) {
    // Subnormal: mantissa * 2^(1 - bias - mantissaBits), exact in f32.
    float value = static_cast<float>(mantissa);
    for (int i = 0; i < bias - 1 + mantissaBits; ++i)
      value *= 0.5f;
    out = bitCast<uint32_t>(value);
  } else {
    out = ((exp + 127 - bias) << 23) | (mantissa << (23 - mantissaBits));
  }
  return bitCast<float>(out | sign);
}

} // namespace

uint16_t floatToHalfBits(float value) { return narrow(bitCast<uint32_t>(value), 23, 127, 10, 15); }
uint16_t doubleToHalfBits(double value) { return narrow(bitCast<uint64_t>(value), 52, 1023, 10, 15); }
float halfBitsToFloat(uint16_t bits) { return widen(bits, 10, 15); }

uint16_t floatToBFloat16Bits(float value) { return narrow(bitCast<uint32_t>(value), 23, 127, 7, 127); }
uint16_t doubleToBFloat16Bits(double value) {
  return narrow(bitCast<uint64_t>(value), 52, 1023, 7, 127);
}
float bfloat16BitsToFloat(uint16_t bits) { return widen(bits, 7, 127); }

namespace {
// The libcall ABI passes and returns _Float16/__bf16 in SSE registers, so
// the signatures must use those types; the bodies only move bits.
_Float16 truncsfhf2(float v) { return bitCast<_Float16>(floatToHalfBits(v)); }
_Float16 truncdfhf2(double v) { return bitCast<_Float16>(doubleToHalfBits(v)); }
float extendhfsf2(_Float16 v) { return halfBitsToFloat(bitCast<uint16_t>(v)); }
double extendhfdf2(_Float16 v) { return halfBitsToFloat(bitCast<uint16_t>(v)); }
__bf16 truncsfbf2(float v) { return bitCast<__bf16>(floatToBFloat16Bits(v)); }
__bf16 truncdfbf2(double v) { return bitCast<__bf16>(doubleToBFloat16Bits(v)); }
float extendbfsf2(__bf16 v) { return bfloat16BitsToFloat(bitCast<uint16_t>(v)); }
} // namespace

std::vector<std::pair<std::string, void *>> conversionLibcalls() {
  return {
      {"__truncsfhf2", reinterpret_cast<void *>(&truncsfhf2)},
      {"__gnu_f2h_ieee", reinterpret_cast<void *>(&truncsfhf2)},
      {"__truncdfhf2", reinterpret_cast<void *>(&truncdfhf2)},
      {"__extendhfsf2", reinterpret_cast<void *>(&extendhfsf2)},
      {"__gnu_h2f_ieee", reinterpret_cast<void *>(&extendhfsf2)},
      {"__extendhfdf2", reinterpret_cast<void *>(&extendhfdf2)},
      {"__truncsfbf2", reinterpret_cast<void *>(&truncsfbf2)},
      {"__truncdfbf2", reinterpret_cast<void *>(&truncdfbf2)},
      {"__extendbfsf2", reinterpret_cast<void *>(&extendbfsf2)},
  };
}

} // namespace mpc::runtime
