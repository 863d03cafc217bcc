//===- FloatConversionsTest.cpp - bit-exact f16/bf16 rounding -------------===//
#include "mpc/Runtime/FloatConversions.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

using namespace mpc::runtime;

namespace {
float fromBits(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}
uint32_t toBits(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  return bits;
}
bool isNaN16(uint16_t bits, int mantissaBits) {
  uint16_t expMask = static_cast<uint16_t>(((1u << (15 - mantissaBits)) - 1) << mantissaBits);
  return (bits & expMask) == expMask && (bits & ((1u << mantissaBits) - 1));
}
} // namespace

TEST(FloatConversions, HalfRoundTripsEveryValue) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    float f = halfBitsToFloat(static_cast<uint16_t>(h));
    if (isNaN16(h, 10)) {
      EXPECT_TRUE(std::isnan(f));
      EXPECT_TRUE(isNaN16(floatToHalfBits(f), 10));
      continue;
    }
    EXPECT_EQ(floatToHalfBits(f), h) << std::hex << h;
    EXPECT_EQ(doubleToHalfBits(static_cast<double>(f)), h) << std::hex << h;
  }
}

TEST(FloatConversions, HalfRoundsToNearestEven) {
  EXPECT_EQ(halfBitsToFloat(0x3C00), 1.0f);
  EXPECT_EQ(halfBitsToFloat(0x0001), std::ldexp(1.0f, -24));
  // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties to the even 1.
  EXPECT_EQ(floatToHalfBits(1.0f + std::ldexp(1.0f, -11)), 0x3C00);
  EXPECT_EQ(floatToHalfBits(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3C02);
  EXPECT_EQ(floatToHalfBits(1.0f + std::ldexp(1.0f, -11) + std::ldexp(1.0f, -20)), 0x3C01);
  EXPECT_EQ(floatToHalfBits(65504.0f), 0x7BFF);
  EXPECT_EQ(floatToHalfBits(65519.0f), 0x7BFF);
  EXPECT_EQ(floatToHalfBits(65520.0f), 0x7C00);
  EXPECT_EQ(floatToHalfBits(-1e10f), 0xFC00);
  EXPECT_EQ(floatToHalfBits(std::ldexp(1.0f, -25)), 0x0000); // tie to even zero
  EXPECT_EQ(floatToHalfBits(std::ldexp(1.5f, -25)), 0x0001);
  EXPECT_EQ(floatToHalfBits(-0.0f), 0x8000);
  EXPECT_TRUE(isNaN16(floatToHalfBits(std::numeric_limits<float>::quiet_NaN()), 10));
  // Rounding f64 directly differs from rounding through f32 here: the value
  // is just above the tie, but f32 rounds it onto the tie.
  double justAboveTie = 1.0 + std::ldexp(1.0, -11) + std::ldexp(1.0, -40);
  EXPECT_EQ(doubleToHalfBits(justAboveTie), 0x3C01);
  EXPECT_EQ(floatToHalfBits(static_cast<float>(justAboveTie)), 0x3C00);
}

TEST(FloatConversions, HalfMatchesTheCompilersConversion) {
  // The compiler's own float -> _Float16 conversion is the reference.
  uint32_t state = 12345;
  for (int i = 0; i < 200000; ++i) {
    state = state * 1664525u + 1013904223u;
    float f = fromBits(state);
    if (std::isnan(f))
      continue;
    _Float16 reference = static_cast<_Float16>(f);
    uint16_t bits;
    std::memcpy(&bits, &reference, 2);
    ASSERT_EQ(floatToHalfBits(f), bits) << f;
  }
}

TEST(FloatConversions, BFloat16RoundsToNearestEven) {
  for (uint32_t b = 0; b < 0x10000; ++b) {
    float f = bfloat16BitsToFloat(static_cast<uint16_t>(b));
    if (isNaN16(b, 7))
      continue;
    EXPECT_EQ(toBits(f), b << 16);
    EXPECT_EQ(floatToBFloat16Bits(f), b);
  }
  EXPECT_EQ(floatToBFloat16Bits(fromBits(0x3F808000)), 0x3F80); // tie -> even
  EXPECT_EQ(floatToBFloat16Bits(fromBits(0x3F818000)), 0x3F82); // tie -> even
  EXPECT_EQ(floatToBFloat16Bits(fromBits(0x3F808001)), 0x3F81);
  EXPECT_EQ(floatToBFloat16Bits(fromBits(0x7F7FFFFF)), 0x7F80);  // overflow -> inf
  EXPECT_EQ(floatToBFloat16Bits(fromBits(0x00008000)), 0x0000);  // subnormal tie -> even
  EXPECT_EQ(floatToBFloat16Bits(fromBits(0x00018000)), 0x0002);
  EXPECT_TRUE(isNaN16(floatToBFloat16Bits(fromBits(0x7F800001)), 7)); // payload below bf16's
  EXPECT_EQ(doubleToBFloat16Bits(1.0 + std::ldexp(1.0, -8) + std::ldexp(1.0, -40)), 0x3F81);
}

TEST(FloatConversions, LibcallsAreAllProvided) {
  auto calls = conversionLibcalls();
  for (const char *name : {"__truncsfhf2", "__extendhfsf2", "__truncdfhf2", "__truncsfbf2"}) {
    bool found = false;
    for (auto &[n, address] : calls)
      found |= n == name && address;
    EXPECT_TRUE(found) << name;
  }
}
