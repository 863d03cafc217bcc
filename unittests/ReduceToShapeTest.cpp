//===- ReduceToShapeTest.cpp - summing gradients back to operand shapes ---===//
//
// Every broadcasting gradient rule ends in reduceToShape, so which axes it
// sums (numpy broadcasting, right-aligned) is pinned down shape by shape.
//
//===----------------------------------------------------------------------===//
#include "mpc/Dialect/Gradients.h"
#include "mpc/Dialect/MpcDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

using namespace mlir;

namespace {

class ReduceToShapeTest : public ::testing::Test {
protected:
  ReduceToShapeTest() : builder(&context) {
    context.loadDialect<mpc::MpcDialect, arith::ArithDialect, func::FuncDialect>();
    module = ModuleOp::create(builder.getUnknownLoc());
    builder.setInsertionPointToEnd(module->getBody());
  }

  RankedTensorType f32(ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, builder.getF32Type());
  }

  /// A value of the given shape to reduce (a constant: its value is irrelevant).
  Value gradient(ArrayRef<int64_t> shape) {
    auto type = f32(shape);
    return arith::ConstantOp::create(builder, builder.getUnknownLoc(),
                                     DenseElementsAttr::get(type, builder.getF32FloatAttr(1.0f)));
  }

  MLIRContext context;
  OpBuilder builder;
  OwningOpRef<ModuleOp> module;
};

TEST_F(ReduceToShapeTest, SameShapeIsUnchanged) {
  Value g = gradient({2, 3});
  EXPECT_EQ(mpc::reduceToShape(builder, builder.getUnknownLoc(), g, f32({2, 3})), g);
}

TEST_F(ReduceToShapeTest, SumsLeadingAndGrownAxesThenReshapes) {
  Value g = gradient({2, 3, 4});
  Value r = mpc::reduceToShape(builder, builder.getUnknownLoc(), g, f32({3, 1}));
  EXPECT_EQ(r.getType(), f32({3, 1}));
  auto reshape = r.getDefiningOp<mpc::ReshapeOp>();
  ASSERT_TRUE(reshape);
  auto sum = reshape.getInput().getDefiningOp<mpc::ReduceSumOp>();
  ASSERT_TRUE(sum);
  EXPECT_EQ(sum.getInput(), g);
  EXPECT_EQ(sum.getAxes(), ArrayRef<int64_t>({0, 2}));
  EXPECT_FALSE(sum.getKeepdims());
}

TEST_F(ReduceToShapeTest, KeptUnitAxisNeedsNoReshape) {
  // [4, 1, 3] -> [1, 3]: only the leading axis is summed; the size-1 axis was
  // not broadcast, and the sum already has the target shape.
  Value g = gradient({4, 1, 3});
  Value r = mpc::reduceToShape(builder, builder.getUnknownLoc(), g, f32({1, 3}));
  auto sum = r.getDefiningOp<mpc::ReduceSumOp>();
  ASSERT_TRUE(sum);
  EXPECT_EQ(sum.getAxes(), ArrayRef<int64_t>({0}));
  EXPECT_EQ(r.getType(), f32({1, 3}));
}

TEST_F(ReduceToShapeTest, ToScalarSumsEverything) {
  Value g = gradient({2, 3});
  Value r = mpc::reduceToShape(builder, builder.getUnknownLoc(), g, f32({}));
  auto sum = r.getDefiningOp<mpc::ReduceSumOp>();
  ASSERT_TRUE(sum);
  EXPECT_EQ(sum.getAxes(), ArrayRef<int64_t>({0, 1}));
  EXPECT_EQ(r.getType(), f32({}));
}

TEST_F(ReduceToShapeTest, KeepsElementType) {
  auto bf16 = RankedTensorType::get({4, 2}, builder.getBF16Type());
  Value g = arith::ConstantOp::create(builder, builder.getUnknownLoc(),
                                      DenseElementsAttr::get(bf16, builder.getFloatAttr(builder.getBF16Type(), 1.0)));
  Value r = mpc::reduceToShape(builder, builder.getUnknownLoc(), g,
                               RankedTensorType::get({2}, builder.getBF16Type()));
  EXPECT_EQ(r.getType(), RankedTensorType::get({2}, builder.getBF16Type()));
}

} // namespace
