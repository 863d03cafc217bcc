//===- ShapeInferenceTest.cpp - the pure shape rules ----------------------===//
#include "mpc/Dialect/ShapeInference.h"

#include <gtest/gtest.h>

using namespace mpc::shape;

namespace {
Shape ok(mlir::FailureOr<Shape> s, const std::string &error) {
  EXPECT_TRUE(mlir::succeeded(s)) << error;
  return mlir::succeeded(s) ? *s : Shape{};
}
} // namespace

TEST(ShapeInference, BroadcastFollowsNumpy) {
  std::string e;
  EXPECT_EQ(ok(broadcast({2, 1, 4}, {3, 1}, e), e), (Shape{2, 3, 4}));
  EXPECT_EQ(ok(broadcast({}, {5}, e), e), (Shape{5}));
  EXPECT_EQ(ok(broadcast({1}, {}, e), e), (Shape{1}));
  EXPECT_TRUE(mlir::failed(broadcast({2, 4}, {3}, e)));
  EXPECT_NE(e.find("do not broadcast"), std::string::npos);
  EXPECT_TRUE(broadcastsTo({4}, {3, 4}));
  EXPECT_TRUE(broadcastsTo({1, 4}, {3, 4}));
  EXPECT_FALSE(broadcastsTo({3, 4}, {4}));
  EXPECT_FALSE(broadcastsTo({2, 4}, {3, 4}));
}

TEST(ShapeInference, MatmulBroadcastsBatchDims) {
  std::string e;
  EXPECT_EQ(ok(matmul({8, 16}, {16, 4}, e), e), (Shape{8, 4}));
  EXPECT_EQ(ok(matmul({2, 1, 8, 16}, {3, 16, 4}, e), e), (Shape{2, 3, 8, 4}));
  EXPECT_TRUE(mlir::failed(matmul({8, 16}, {15, 4}, e)));
  EXPECT_TRUE(mlir::failed(matmul({16}, {16, 4}, e)));
}

TEST(ShapeInference, WindowSizesMatchOnnx) {
  std::string e;
  // ResNet stem: 224, k7 s2 p3 -> 112; max pool k3 s2 p1 -> 56.
  EXPECT_EQ(*windowOutputSize(224, 7, 2, 3, 3, 1, false, e), 112);
  EXPECT_EQ(*windowOutputSize(112, 3, 2, 1, 1, 1, false, e), 56);
  // ceil_mode rounds up, but a window may not start in the end padding.
  EXPECT_EQ(*windowOutputSize(7, 2, 2, 0, 0, 1, true, e), 4);
  EXPECT_EQ(*windowOutputSize(6, 2, 2, 0, 1, 1, true, e), 3);
  // Dilation widens the window.
  EXPECT_EQ(*windowOutputSize(10, 3, 1, 0, 0, 2, false, e), 6);
  EXPECT_TRUE(mlir::failed(windowOutputSize(2, 3, 1, 0, 0, 1, false, e)));
  EXPECT_TRUE(mlir::failed(windowOutputSize(8, 3, 0, 0, 0, 1, false, e)));
}

TEST(ShapeInference, ConvChecksChannelsAndGroups) {
  std::string e;
  EXPECT_EQ(ok(conv({1, 3, 224, 224}, {64, 3, 7, 7}, {2, 2}, {3, 3, 3, 3}, {1, 1}, 1, e), e),
            (Shape{1, 64, 112, 112}));
  EXPECT_EQ(ok(conv({2, 32, 8, 8}, {32, 1, 3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}, 32, e), e),
            (Shape{2, 32, 8, 8}));
  EXPECT_TRUE(mlir::failed(conv({1, 3, 8, 8}, {4, 2, 3, 3}, {1, 1}, {0, 0, 0, 0}, {1, 1}, 1, e)));
  EXPECT_TRUE(mlir::failed(conv({1, 4, 8, 8}, {6, 2, 3, 3}, {1, 1}, {0, 0, 0, 0}, {1, 1}, 4, e)));
  EXPECT_TRUE(mlir::failed(conv({1, 3, 8, 8}, {4, 3, 3, 3}, {1}, {0, 0, 0, 0}, {1, 1}, 1, e)));
}

TEST(ShapeInference, ReduceKeepsOrDropsAxes) {
  std::string e;
  EXPECT_EQ(ok(reduce({2, 3, 4}, {1, 2}, true, e), e), (Shape{2, 1, 1}));
  EXPECT_EQ(ok(reduce({2, 3, 4}, {0, 2}, false, e), e), (Shape{3}));
  EXPECT_EQ(ok(reduce({2, 3}, {}, false, e), e), (Shape{2, 3}));
  EXPECT_TRUE(mlir::failed(reduce({2, 3}, {1, 0}, true, e)));
  EXPECT_TRUE(mlir::failed(reduce({2, 3}, {2}, true, e)));
}

TEST(ShapeInference, DataMovement) {
  std::string e;
  EXPECT_EQ(ok(reshape({2, 3, 4}, {6, 4}, e), e), (Shape{6, 4}));
  EXPECT_TRUE(mlir::failed(reshape({2, 3}, {4, 2}, e)));
  EXPECT_EQ(ok(transpose({2, 3, 4}, {2, 0, 1}, e), e), (Shape{4, 2, 3}));
  EXPECT_TRUE(mlir::failed(transpose({2, 3}, {1, 1}, e)));
  llvm::SmallVector<llvm::ArrayRef<int64_t>> parts;
  Shape a{2, 3}, b{2, 5};
  parts = {a, b};
  EXPECT_EQ(ok(concat(parts, 1, e), e), (Shape{2, 8}));
  EXPECT_TRUE(mlir::failed(concat(parts, 0, e)));
  EXPECT_EQ(ok(slice({10}, {9}, {5}, {-2}, e), e), (Shape{5}));
  EXPECT_TRUE(mlir::failed(slice({10}, {9}, {6}, {-2}, e)));
  EXPECT_EQ(ok(slice({10}, {3}, {0}, {1}, e), e), (Shape{0}));
  EXPECT_EQ(ok(gather({100, 16}, {2, 5}, 0, e), e), (Shape{2, 5, 16}));
  EXPECT_EQ(ok(gather({4, 6, 8}, {3}, 1, e), e), (Shape{4, 3, 8}));
  EXPECT_EQ(numElements({}), 1);
  EXPECT_EQ(numElements({2, 0, 3}), 0);
}
