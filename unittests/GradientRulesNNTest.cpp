//===- GradientRulesNNTest.cpp - structure of the NN gradient rules -------===//
//
// The numerics of the backward ops are checked end to end
// (test/e2e/test_train_ops.py, test_gradients_nn.py); this checks what the
// rules promise the autodiff pass: one gradient per operand with exactly the
// operand's type, none for integer operands, the forward attributes carried
// over, an f32 accumulator for narrow convs, and IR that verifies.
//
//===----------------------------------------------------------------------===//
#include "mpc/Dialect/MpcDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

#include <string>

using namespace mlir;

namespace {

class GradientRulesNNTest : public ::testing::Test {
protected:
  GradientRulesNNTest() {
    context.loadDialect<mpc::MpcDialect, arith::ArithDialect, func::FuncDialect>();
  }

  /// Parses a function whose last argument is the gradient of the first op
  /// of interest's result, builds that op's gradient before the return, and
  /// returns the operand gradients (empty on failure).
  SmallVector<Value> gradientOf(StringRef source) {
    module = parseSourceString<ModuleOp>(source, &context);
    EXPECT_TRUE(module) << source.str();
    SmallVector<Value> grads;
    if (!module)
      return grads;
    auto func = cast<func::FuncOp>(module->getBody()->front());
    Operation *op = nullptr;
    func.walk([&](Operation *candidate) {
      if (!op && isa<mpc::GradientOpInterface>(candidate))
        op = candidate;
    });
    EXPECT_TRUE(op) << "no differentiable op";
    if (!op)
      return grads;
    forward = op;
    OpBuilder builder(func.getBody().front().getTerminator());
    Value dy = func.getArguments().back();
    if (failed(cast<mpc::GradientOpInterface>(op).buildGradient(builder, {dy}, grads)))
      grads.clear();
    EXPECT_TRUE(succeeded(verify(*module)));
    return grads;
  }

  void expectOperandTypes(ArrayRef<Value> grads) {
    ASSERT_EQ(grads.size(), forward->getNumOperands());
    for (auto [grad, operand] : llvm::zip(grads, forward->getOperands()))
      if (grad)
        EXPECT_EQ(grad.getType(), operand.getType());
  }

  MLIRContext context;
  OwningOpRef<ModuleOp> module;
  Operation *forward = nullptr;
};

TEST_F(GradientRulesNNTest, ConvBf16HasF32AccumulatorsAndBiasSum) {
  SmallVector<Value> grads = gradientOf(R"mlir(
func.func @f(%x: tensor<2x4x8x8xbf16>, %w: tensor<6x2x3x3xbf16>, %b: tensor<6xbf16>,
             %dy: tensor<2x6x4x4xbf16>) {
  %y = mpc.conv %x, %w, %b {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 0, 0>, dilations = array<i64: 1, 1>, group = 2 : i64, mpc.node = "conv1"} : (tensor<2x4x8x8xbf16>, tensor<6x2x3x3xbf16>, tensor<6xbf16>) -> tensor<2x6x4x4xbf16>
  return
})mlir");
  ASSERT_EQ(grads.size(), 3u);
  expectOperandTypes(grads);
  auto dx = grads[0].getDefiningOp<mpc::ConvGradInputOp>();
  auto dw = grads[1].getDefiningOp<mpc::ConvGradFilterOp>();
  auto db = grads[2].getDefiningOp<mpc::ReduceSumOp>();
  ASSERT_TRUE(dx && dw && db);
  EXPECT_EQ(dx.getGroup(), 2u);
  EXPECT_EQ(dw.getStrides(), ArrayRef<int64_t>({2, 2}));
  EXPECT_EQ(dx.getPads(), ArrayRef<int64_t>({1, 1, 0, 0}));
  ASSERT_TRUE(dx.getAccType() && dw.getAccType() && db.getAccType());
  EXPECT_TRUE(dx.getAccType()->isF32());
  EXPECT_TRUE(dw.getAccType()->isF32());
  EXPECT_EQ(db.getAxes(), ArrayRef<int64_t>({0, 2, 3}));
  EXPECT_EQ(dx->getAttrOfType<StringAttr>(mpc::kNodeNameAttr).getValue(), "conv1");
}

TEST_F(GradientRulesNNTest, ConvF32WithoutBiasKeepsDefaultAccumulator) {
  SmallVector<Value> grads = gradientOf(R"mlir(
func.func @f(%x: tensor<1x3x9xf32>, %w: tensor<4x3x3xf32>, %dy: tensor<1x4x7xf32>) {
  %y = mpc.conv %x, %w {strides = array<i64: 1>, pads = array<i64: 0, 0>, dilations = array<i64: 1>, group = 1 : i64} : (tensor<1x3x9xf32>, tensor<4x3x3xf32>) -> tensor<1x4x7xf32>
  return
})mlir");
  ASSERT_EQ(grads.size(), 2u);
  expectOperandTypes(grads);
  EXPECT_FALSE(grads[0].getDefiningOp<mpc::ConvGradInputOp>().getAccType());
}

TEST_F(GradientRulesNNTest, Pools) {
  SmallVector<Value> grads = gradientOf(R"mlir(
func.func @f(%x: tensor<1x2x7x7xf32>, %dy: tensor<1x2x4x4xf32>) {
  %y = mpc.max_pool %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, ceil_mode = true} : (tensor<1x2x7x7xf32>) -> tensor<1x2x4x4xf32>
  return
})mlir");
  ASSERT_EQ(grads.size(), 1u);
  expectOperandTypes(grads);
  auto mp = grads[0].getDefiningOp<mpc::MaxPoolGradOp>();
  ASSERT_TRUE(mp);
  EXPECT_TRUE(mp.getCeilMode());
  EXPECT_EQ(mp.getInput(), forward->getOperand(0));

  grads = gradientOf(R"mlir(
func.func @f(%x: tensor<1x2x7x7xbf16>, %dy: tensor<1x2x3x3xbf16>) {
  %y = mpc.avg_pool %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, count_include_pad = true} : (tensor<1x2x7x7xbf16>) -> tensor<1x2x3x3xbf16>
  return
})mlir");
  ASSERT_EQ(grads.size(), 1u);
  expectOperandTypes(grads);
  auto ap = grads[0].getDefiningOp<mpc::AvgPoolGradOp>();
  ASSERT_TRUE(ap);
  EXPECT_TRUE(ap.getCountIncludePad());
  ASSERT_TRUE(ap.getAccType());
  EXPECT_TRUE(ap.getAccType()->isF32());
}

TEST_F(GradientRulesNNTest, GatherHasNoIndexGradient) {
  SmallVector<Value> grads = gradientOf(R"mlir(
func.func @f(%e: tensor<10x4xf32>, %i: tensor<3xi64>, %dy: tensor<3x4xf32>) {
  %y = mpc.gather %e, %i {axis = 0 : i64} : (tensor<10x4xf32>, tensor<3xi64>) -> tensor<3x4xf32>
  return
})mlir");
  ASSERT_EQ(grads.size(), 2u);
  expectOperandTypes(grads);
  EXPECT_TRUE(grads[0].getDefiningOp<mpc::GatherGradOp>());
  EXPECT_FALSE(grads[1]);
}

TEST_F(GradientRulesNNTest, Losses) {
  SmallVector<Value> grads = gradientOf(R"mlir(
func.func @f(%x: tensor<4x10xf32>, %l: tensor<4xi64>, %d: tensor<f32>) {
  %y = mpc.softmax_cross_entropy %x, %l : (tensor<4x10xf32>, tensor<4xi64>) -> tensor<f32>
  return
})mlir");
  ASSERT_EQ(grads.size(), 2u);
  expectOperandTypes(grads);
  EXPECT_TRUE(grads[0].getDefiningOp<mpc::SoftmaxCrossEntropyGradOp>());
  EXPECT_FALSE(grads[1]);

  grads = gradientOf(R"mlir(
func.func @f(%p: tensor<4x3xbf16>, %t: tensor<4x3xbf16>, %d: tensor<f32>) {
  %y = mpc.mse_loss %p, %t : (tensor<4x3xbf16>, tensor<4x3xbf16>) -> tensor<f32>
  return
})mlir");
  ASSERT_EQ(grads.size(), 2u);
  expectOperandTypes(grads);
  EXPECT_TRUE(grads[0].getDefiningOp<mpc::MulOp>());
  EXPECT_TRUE(grads[1].getDefiningOp<mpc::NegOp>());
}

TEST_F(GradientRulesNNTest, UnusedResultGivesNoGradients) {
  module = parseSourceString<ModuleOp>(R"mlir(
func.func @f(%x: tensor<1x1x4x4xf32>, %w: tensor<1x1x3x3xf32>) {
  %y = mpc.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x1x4x4xf32>, tensor<1x1x3x3xf32>) -> tensor<1x1x2x2xf32>
  return
})mlir", &context);
  ASSERT_TRUE(module);
  auto func = cast<func::FuncOp>(module->getBody()->front());
  Operation *conv = &func.getBody().front().front();
  OpBuilder builder(conv->getBlock()->getTerminator());
  SmallVector<Value> grads;
  ASSERT_TRUE(succeeded(cast<mpc::GradientOpInterface>(conv).buildGradient(builder, {Value()}, grads)));
  ASSERT_EQ(grads.size(), 2u);
  EXPECT_FALSE(grads[0]);
  EXPECT_FALSE(grads[1]);
}

} // namespace
