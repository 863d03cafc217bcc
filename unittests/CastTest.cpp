//===- CastTest.cpp - mpc.cast losslessness and constant folding ----------===//
//
// The folder is what decides that a cast can disappear, so its arithmetic is
// checked value by value here: rounding ties, overflow, fp8 saturation.
//
//===----------------------------------------------------------------------===//
#include "mpc/Dialect/CastElements.h"
#include "mpc/Dialect/MpcDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/AsmParser/AsmParser.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/StringExtras.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <limits>
#include <string>
#include <vector>

using namespace mlir;

namespace {

class CastTest : public ::testing::Test {
protected:
  CastTest() {
    context.loadDialect<mpc::MpcDialect, arith::ArithDialect, func::FuncDialect>();
  }

  Type type(StringRef text) { return parseType(text, &context); }

  /// Parses `body` (ending in `return %r`) into a function and folds the
  /// cast that defines the returned value.
  SmallVector<OpFoldResult> foldReturnedCast(StringRef signature, StringRef body) {
    std::string source = ("func.func @f() -> " + signature + " {\n" + body + "\n}").str();
    module = parseSourceString<ModuleOp>(source, &context);
    EXPECT_TRUE(module) << source;
    SmallVector<OpFoldResult> results;
    if (!module)
      return results;
    auto func = cast<func::FuncOp>(module->getBody()->front());
    Value returned = func.getBody().front().getTerminator()->getOperand(0);
    auto castOp = returned.getDefiningOp<mpc::CastOp>();
    EXPECT_TRUE(castOp);
    if (castOp && failed(castOp->fold(results)))
      results.clear();
    return results;
  }

  /// Folds `cast dense<values> : tensor<Nxf32> to tensor<NxTO>` and returns
  /// the folded elements as doubles (NaN for NaN).
  std::vector<double> foldConstant(const std::vector<std::string> &values, StringRef to,
                                   bool saturate = true) {
    std::string n = std::to_string(values.size());
    std::string list;
    for (const std::string &value : values)
      list += (list.empty() ? "" : ", ") + value;
    std::string result = "tensor<" + n + "x" + to.str() + ">";
    std::string body = "%c = arith.constant dense<[" + list + "]> : tensor<" + n + "xf32>\n" +
                       "%r = mpc.cast %c" + (saturate ? "" : " {saturate = false}") +
                       " : tensor<" + n + "xf32> to " + result + "\nreturn %r : " + result;
    SmallVector<OpFoldResult> folded = foldReturnedCast(result, body);
    std::vector<double> out;
    auto elements = folded.size() == 1
                        ? dyn_cast_if_present<DenseElementsAttr>(dyn_cast<Attribute>(folded[0]))
                        : DenseElementsAttr();
    EXPECT_TRUE(elements) << "no constant fold for " << body;
    if (!elements)
      return out;
    EXPECT_EQ(elements.getType(), type(result));
    for (const llvm::APFloat &value : elements.getValues<llvm::APFloat>())
      out.push_back(value.isNaN() ? std::numeric_limits<double>::quiet_NaN()
                                  : value.convertToDouble());
    return out;
  }

  MLIRContext context;
  OwningOpRef<ModuleOp> module;
};

void expectSameValues(const std::vector<double> &actual, const std::vector<double> &expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    if (std::isnan(expected[i]))
      EXPECT_TRUE(std::isnan(actual[i])) << "element " << i << " is " << actual[i];
    else
      EXPECT_EQ(actual[i], expected[i]) << "element " << i;
  }
}

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

TEST_F(CastTest, LosslessWidenings) {
  for (auto [from, to] : std::vector<std::pair<const char *, const char *>>{
           {"f16", "f32"}, {"bf16", "f32"}, {"f16", "f64"}, {"bf16", "f64"}, {"f32", "f64"},
           {"f8E4M3FN", "f16"}, {"f8E4M3FN", "bf16"}, {"f8E4M3FN", "f32"}, {"f8E5M2", "f16"},
           {"f8E5M2", "bf16"}, {"f8E5M2", "f32"}, {"f32", "f32"}, {"i32", "i32"}})
    EXPECT_TRUE(mpc::CastOp::isLossless(type(from), type(to))) << from << " -> " << to;
}

TEST_F(CastTest, LossyConversions) {
  for (auto [from, to] : std::vector<std::pair<const char *, const char *>>{
           {"f16", "bf16"}, {"bf16", "f16"}, {"f32", "f16"}, {"f32", "bf16"},
           {"f64", "f32"}, {"f16", "f8E4M3FN"}, {"f8E4M3FN", "f8E5M2"}, {"f8E5M2", "f8E4M3FN"},
           {"f16", "f8E5M2"}, {"i32", "f32"}, {"f32", "i32"}, {"i32", "i64"}})
    EXPECT_FALSE(mpc::CastOp::isLossless(type(from), type(to))) << from << " -> " << to;
}

TEST_F(CastTest, LosslessLooksThroughTensors) {
  EXPECT_TRUE(mpc::CastOp::isLossless(type("tensor<2x3xbf16>"), type("tensor<2x3xf32>")));
  EXPECT_FALSE(mpc::CastOp::isLossless(type("tensor<2x3xf32>"), type("tensor<2x3xbf16>")));
}

TEST_F(CastTest, F16RoundsToNearestEven) {
  // 1 + 2^-11 and 1 + 3 * 2^-11 are ties: to the even neighbour. 65519 is
  // below the tie at 65520 (-> max 65504); 65520 rounds to the even side,
  // which is past the largest value: inf.
  expectSameValues(foldConstant({"1.00048828125", "1.00146484375", "65519.0", "65520.0",
                                 "-65520.0", "5.9604644775390625E-8"},
                                "f16"),
                   {1.0, 1.001953125, 65504.0, kInf, -kInf, 5.9604644775390625E-8});
}

TEST_F(CastTest, BF16RoundsToNearestEven) {
  // The largest bf16 stays; 3.4e38 is past the tie with 2^128: inf.
  expectSameValues(
      foldConstant({"1.00390625", "1.01171875", "3.3895313892515355E38", "3.4e38"}, "bf16"),
      {1.0, 1.015625, 3.3895313892515355E38, kInf});
}

TEST_F(CastTest, E4M3FNSaturatesWhenAsked) {
  // 464 is a tie between 448 (even mantissa) and the encoding that would be
  // 480 (NaN in this format): it stays 448, and anything above overflows.
  // 17 and 19 are ties (16/18, 18/20): to the even mantissa. 2^-10 is the
  // tie between 0 and the smallest subnormal 2^-9: to zero.
  std::vector<std::string> input = {"463.0",      "464.0", "465.0", "-1000.0",    "0x7F800000",
                                    "0x7FC00000", "17.0",  "19.0",  "0.001953125", "0.0009765625"};
  expectSameValues(foldConstant(input, "f8E4M3FN"),
                   {448.0, 448.0, 448.0, -448.0, 448.0, kNaN, 16.0, 20.0, 0.001953125, 0.0});
  expectSameValues(foldConstant(input, "f8E4M3FN", /*saturate=*/false),
                   {448.0, 448.0, kNaN, kNaN, kNaN, kNaN, 16.0, 20.0, 0.001953125, 0.0});
}

TEST_F(CastTest, E5M2SaturatesWhenAsked) {
  // 61440 is halfway between the largest value 57344 and 2^16: it overflows.
  std::vector<std::string> input = {"61439.0", "61440.0", "-1.0e6", "0xFF800000"};
  expectSameValues(foldConstant(input, "f8E5M2"), {57344.0, 57344.0, -57344.0, -57344.0});
  expectSameValues(foldConstant(input, "f8E5M2", /*saturate=*/false),
                   {57344.0, kInf, -kInf, -kInf});
}

TEST_F(CastTest, SaturateLeavesWiderTypesIEEE) {
  // `saturate` defaults to true on every cast; only fp8 targets clamp.
  expectSameValues(foldConstant({"1.0e6", "0x7F800000"}, "f16"), {kInf, kInf});
}

TEST_F(CastTest, SplatStaysSplat) {
  SmallVector<OpFoldResult> folded =
      foldReturnedCast("tensor<1024xbf16>", R"(
        %c = arith.constant dense<1.00390625> : tensor<1024xf32>
        %r = mpc.cast %c : tensor<1024xf32> to tensor<1024xbf16>
        return %r : tensor<1024xbf16>)");
  ASSERT_EQ(folded.size(), 1u);
  auto elements = dyn_cast_if_present<DenseElementsAttr>(dyn_cast<Attribute>(folded[0]));
  ASSERT_TRUE(elements);
  EXPECT_TRUE(elements.isSplat());
  EXPECT_EQ(elements.getSplatValue<llvm::APFloat>().convertToDouble(), 1.0);
}

TEST_F(CastTest, IntegerConversions) {
  SmallVector<OpFoldResult> toInt = foldReturnedCast("tensor<3xi32>", R"(
    %c = arith.constant dense<[-2.7, 3.9, 0.5]> : tensor<3xf32>
    %r = mpc.cast %c : tensor<3xf32> to tensor<3xi32>
    return %r : tensor<3xi32>)");
  ASSERT_EQ(toInt.size(), 1u);
  auto ints = dyn_cast_if_present<DenseElementsAttr>(dyn_cast<Attribute>(toInt[0]));
  ASSERT_TRUE(ints);
  std::vector<int64_t> values;
  for (const llvm::APInt &value : ints.getValues<llvm::APInt>())
    values.push_back(value.getSExtValue());
  EXPECT_EQ(values, (std::vector<int64_t>{-2, 3, 0}));

  // NaN has no integer image: no fold rather than an arbitrary value.
  EXPECT_TRUE(foldReturnedCast("tensor<1xi32>", R"(
    %c = arith.constant dense<0x7FC00000> : tensor<1xf32>
    %r = mpc.cast %c : tensor<1xf32> to tensor<1xi32>
    return %r : tensor<1xi32>)")
                  .empty());

  SmallVector<OpFoldResult> toFloat = foldReturnedCast("tensor<2xf32>", R"(
    %c = arith.constant dense<[16777217, -3]> : tensor<2xi32>
    %r = mpc.cast %c : tensor<2xi32> to tensor<2xf32>
    return %r : tensor<2xf32>)");
  ASSERT_EQ(toFloat.size(), 1u);
  auto floats = dyn_cast_if_present<DenseElementsAttr>(dyn_cast<Attribute>(toFloat[0]));
  ASSERT_TRUE(floats);
  EXPECT_EQ(floats.getValues<float>()[0], 16777216.0f);
  EXPECT_EQ(floats.getValues<float>()[1], -3.0f);
}

TEST_F(CastTest, IdentityFoldsToInput) {
  std::string source = "func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {\n"
                       "  %r = mpc.cast %x : tensor<4xf32> to tensor<4xf32>\n"
                       "  return %r : tensor<4xf32>\n}";
  module = parseSourceString<ModuleOp>(source, &context);
  ASSERT_TRUE(module);
  auto func = cast<func::FuncOp>(module->getBody()->front());
  auto castOp = cast<mpc::CastOp>(func.getBody().front().front());
  SmallVector<OpFoldResult> results;
  ASSERT_TRUE(succeeded(castOp->fold(results)));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(dyn_cast<Value>(results[0]), func.getArgument(0));
}

TEST_F(CastTest, ChainsFoldOnlyThroughExactWidenings) {
  // f16 -> f32 -> f16 is the identity; f32 -> f16 -> f32 rounds and stays.
  std::string source = "func.func @f(%h: tensor<4xf16>, %x: tensor<4xf32>, %b: tensor<4xbf16>)"
                       " -> (tensor<4xf16>, tensor<4xf32>, tensor<4xf16>) {\n"
                       "  %0 = mpc.cast %h : tensor<4xf16> to tensor<4xf32>\n"
                       "  %1 = mpc.cast %0 : tensor<4xf32> to tensor<4xf16>\n"
                       "  %2 = mpc.cast %x : tensor<4xf32> to tensor<4xf16>\n"
                       "  %3 = mpc.cast %2 : tensor<4xf16> to tensor<4xf32>\n"
                       "  %4 = mpc.cast %b : tensor<4xbf16> to tensor<4xf32>\n"
                       "  %5 = mpc.cast %4 : tensor<4xf32> to tensor<4xf16>\n"
                       "  return %1, %3, %5 : tensor<4xf16>, tensor<4xf32>, tensor<4xf16>\n}";
  module = parseSourceString<ModuleOp>(source, &context);
  ASSERT_TRUE(module);
  auto func = cast<func::FuncOp>(module->getBody()->front());
  SmallVector<mpc::CastOp> casts(func.getBody().front().getOps<mpc::CastOp>());
  ASSERT_EQ(casts.size(), 6u);

  SmallVector<OpFoldResult> results;
  ASSERT_TRUE(succeeded(casts[1]->fold(results)));
  EXPECT_EQ(dyn_cast<Value>(results[0]), func.getArgument(0));

  results.clear();
  EXPECT_TRUE(failed(casts[3]->fold(results)));

  // bf16 -> f32 -> f16 is re-rooted in place: one rounding, bf16 -> f16.
  results.clear();
  ASSERT_TRUE(succeeded(casts[5]->fold(results)));
  EXPECT_TRUE(results.empty() || dyn_cast<Value>(results[0]) == casts[5].getResult());
  EXPECT_EQ(casts[5].getInput(), func.getArgument(2));
}

using llvm::APFloat;

/// f32 bit patterns where a rounding into bf16 or f16 can go wrong: every
/// exponent with mantissas at and around the ties of both formats, the f16
/// overflow and subnormal ranges densely, and random patterns; both signs.
static std::vector<uint32_t> roundingEdgeBits() {
  std::vector<uint32_t> bits;
  const uint32_t mantissas[] = {0,       1,       0x7FFF,  0x8000,  0x8001,   0xFFFF,   0x10000,
                                0x18000, 0x17FFF, 0x18001, 0x0FFF,  0x1000,   0x1001,   0x1FFF,
                                0x2000,  0x3000,  0x2FFF,  0x3001,  0x400000, 0x7FFFFF, 0x7FF000,
                                0x7FEFFF, 0x7FF001, 0x7F8000, 0x7F7FFF, 0x7F8001, 0x6000, 0x5000};
  for (uint32_t exponent = 0; exponent <= 255; ++exponent)
    for (uint32_t mantissa : mantissas)
      bits.push_back(exponent << 23 | mantissa);
  // |x| from 2^-27 to 2^-13 (f16 subnormals and the first normals) and
  // around 65504 ... 65536, every 2^9-th code and its neighbours.
  for (uint32_t base : {0x32000000u, 0x477F0000u})
    for (uint32_t offset = 0; offset < (base == 0x32000000u ? 0x7000000u : 0x20000u); offset += 0x200)
      for (int32_t delta : {-1, 0, 1})
        bits.push_back(base + offset + delta);
  std::mt19937 random(17);
  for (int i = 0; i < 200000; ++i)
    bits.push_back(random());
  size_t count = bits.size();
  for (size_t i = 0; i < count; ++i)
    bits.push_back(bits[i] ^ 0x80000000u);
  // NaN is the APFloat path's (the data holding one is checked apart).
  bits.erase(std::remove_if(bits.begin(), bits.end(),
                            [](uint32_t b) { return (b & 0x7FFFFFFFu) > 0x7F800000u; }),
             bits.end());
  return bits;
}

// castElements converts f32 data into bf16/f16 on its bits (no APFloat per
// element); every such element must be what APFloat's round-to-nearest-even
// gives, the folder's and the compiled cast's rounding.
TEST_F(CastTest, Float32BitsRoundAsAPFloat) {
  std::vector<uint32_t> bits = roundingEdgeBits();
  auto input = RankedTensorType::get({int64_t(bits.size())}, Float32Type::get(&context));
  auto data = DenseElementsAttr::getFromRawBuffer(
      input, ArrayRef<char>(reinterpret_cast<const char *>(bits.data()), bits.size() * 4));
  for (StringRef to : {"bf16", "f16"}) {
    auto type = RankedTensorType::get(input.getShape(), this->type(to));
    auto folded = dyn_cast_if_present<DenseElementsAttr>(mpc::castElements(data, type, true));
    ASSERT_TRUE(folded) << to.str();
    ASSERT_EQ(folded.getElementType(), type.getElementType());
    const llvm::fltSemantics &semantics = cast<FloatType>(type.getElementType()).getFloatSemantics();
    size_t index = 0, mismatches = 0;
    for (const APFloat &value : folded.getValues<APFloat>()) {
      uint32_t b = bits[index++];
      float f;
      std::memcpy(&f, &b, 4);
      APFloat expected(f);
      bool losesInfo = false;
      (void)expected.convert(semantics, APFloat::rmNearestTiesToEven, &losesInfo);
      if (value.bitcastToAPInt() != expected.bitcastToAPInt() && mismatches++ < 10)
        ADD_FAILURE() << to.str() << ": f32 bits 0x" << llvm::utohexstr(b) << " gave 0x"
                      << llvm::utohexstr(value.bitcastToAPInt().getZExtValue()) << ", expected 0x"
                      << llvm::utohexstr(expected.bitcastToAPInt().getZExtValue());
    }
    EXPECT_EQ(index, bits.size());
    EXPECT_EQ(mismatches, 0u) << to.str();
  }
}

// Data holding a NaN still folds, every element through APFloat as before.
TEST_F(CastTest, Float32DataWithNaNFoldsThroughAPFloat) {
  std::vector<uint32_t> bits = {0x3F808000u, 0xFFC00001u, 0x3F818000u, 0x7F800000u};
  auto input = RankedTensorType::get({4}, Float32Type::get(&context));
  auto data = DenseElementsAttr::getFromRawBuffer(
      input, ArrayRef<char>(reinterpret_cast<const char *>(bits.data()), bits.size() * 4));
  auto folded = dyn_cast_if_present<DenseElementsAttr>(
      mpc::castElements(data, RankedTensorType::get({4}, type("bf16")), true));
  ASSERT_TRUE(folded);
  std::vector<uint64_t> codes;
  for (const APFloat &value : folded.getValues<APFloat>())
    codes.push_back(value.bitcastToAPInt().getZExtValue());
  ASSERT_EQ(codes.size(), 4u);
  EXPECT_EQ(codes[0], 0x3F80u); // tie to even
  EXPECT_TRUE((codes[1] & 0x7FFFu) > 0x7F80u) << llvm::utohexstr(codes[1]);
  EXPECT_EQ(codes[2], 0x3F82u); // tie to even, upwards
  EXPECT_EQ(codes[3], 0x7F80u);
}

} // namespace
