//===- InputValuesTest.cpp - --onnx-input-value parsing and checks --------===//
#include "mpc/Dialect/MpcDialect.h"
#include "mpc/Import/ONNXImporter.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/FileSystem.h"

#include <gtest/gtest.h>

using namespace mpc;
using runtime::ElementKind;
using runtime::HostArray;

namespace {
/// A .npy file of int64 `values` in a fresh temporary file.
std::string writeInts(std::initializer_list<int64_t> values) {
  llvm::SmallString<128> path;
  EXPECT_FALSE(llvm::sys::fs::createTemporaryFile("input-value", "npy", path));
  HostArray array(ElementKind::I64, {int64_t(values.size())});
  std::copy(values.begin(), values.end(), array.as<int64_t>());
  std::string error;
  EXPECT_TRUE(runtime::writeNpy(path.str().str(), array, error)) << error;
  return path.str().str();
}

TEST(InputValues, ReadsNameEqualsFile) {
  std::string file = writeInts({3, 4});
  InputValues values;
  std::string error;
  // The last '=' splits, so a name may contain '='.
  ASSERT_TRUE(readInputValue("a=b=" + file, "--flag", values, error)) << error;
  ASSERT_EQ(values.count("a=b"), 1u);
  EXPECT_EQ(values.at("a=b").shape(), std::vector<int64_t>{2});
  EXPECT_EQ(values.at("a=b").as<int64_t>()[1], 4);
  EXPECT_FALSE(readInputValue("a=b=" + file, "--flag", values, error));
  EXPECT_EQ(error, "--flag 'a=b' is given twice");
  llvm::sys::fs::remove(file);
}

TEST(InputValues, BadSpecsNameTheFlag) {
  InputValues values;
  std::string error;
  EXPECT_FALSE(readInputValue("shape", "--onnx-input-value", values, error));
  EXPECT_EQ(error, "--onnx-input-value expects NAME=FILE.npy, got 'shape'");
  EXPECT_FALSE(readInputValue("=x.npy", "--onnx-input-value", values, error));
  EXPECT_FALSE(readInputValue("shape=", "--onnx-input-value", values, error));
  EXPECT_FALSE(readInputValue("shape=/nonexistent/s.npy", "--input", values, error));
  EXPECT_EQ(error.rfind("--input 'shape': ", 0), 0u) << error;
  EXPECT_NE(error.find("/nonexistent/s.npy"), std::string::npos) << error;
  EXPECT_TRUE(values.empty());
}

TEST(InputValues, OptionsAskTheMap) {
  InputValues values;
  values.emplace("shape", HostArray(ElementKind::I64, {2}));
  ONNXImportOptions options;
  useInputValues(options, values, "--input");
  EXPECT_EQ(options.inputValueFlag, "--input");
  EXPECT_EQ(options.inputValue("shape"), &values.at("shape"));
  EXPECT_EQ(options.inputValue("x"), nullptr);
}

TEST(InputValues, UnusedValuesAreNamed) {
  mlir::MLIRContext context;
  mlir::OpBuilder builder(&context);
  mlir::OwningOpRef<mlir::ModuleOp> module = mlir::ModuleOp::create(builder.getUnknownLoc());
  InputValues values;
  values.emplace("shape", HostArray(ElementKind::I64, {2}));
  EXPECT_TRUE(inputsTakenAsValues(*module).empty());
  EXPECT_EQ(unusedInputValue(*module, values, "--onnx-input-value"),
            "--onnx-input-value 'shape': the model has no graph input of that name whose value "
            "decides a shape (inputs that only carry data stay inputs of the program); drop it");
  (*module)->setAttr(kInputValuesAttr, builder.getStrArrayAttr({"shape"}));
  EXPECT_EQ(inputsTakenAsValues(*module), std::vector<std::string>{"shape"});
  EXPECT_EQ(unusedInputValue(*module, values, "--onnx-input-value"), "");
}
} // namespace
