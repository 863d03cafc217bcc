//===- PassOptionsTest.cpp - enum spellings and pipeline options ----------===//
//
// The tools convert their flags with the spellings in the libraries'
// PassOptions.h; Passes.td spells the same values for the option parser.
// These tests keep the two lists the same, and check that the CPU
// pipeline's options parse as mpc-opt passes them.
//
//===----------------------------------------------------------------------===//
#include "mpc/InitAll.h"
#include "mpc/Precision/PassOptions.h"
#include "mpc/Target/CPU/Pipeline.h"
#include "mpc/Train/PassOptions.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <string>

namespace {

/// `pass{option=value}` parsed by the pass's own option parser and printed
/// back; empty when the parser refuses it.
std::string roundTrip(llvm::StringRef pass, llvm::StringRef option, llvm::StringRef value) {
  // Registering a pipeline twice is a fatal error.
  [[maybe_unused]] static const bool registered = (mpc::registerAllPasses(), true);
  mlir::OpPassManager pm("builtin.module");
  std::string errors;
  llvm::raw_string_ostream errorStream(errors);
  std::string pipeline = (pass + "{" + option + "=" + value + "}").str();
  if (failed(mlir::parsePassPipeline(pipeline, pm, errorStream)))
    return "";
  std::string printed;
  llvm::raw_string_ostream os(printed);
  pm.printAsTextualPipeline(os);
  return printed;
}

/// Every value's spelling is one the option parser accepts and prints back.
template <typename E, typename Stringify>
void expectParsedBack(llvm::StringRef pass, llvm::StringRef option, std::initializer_list<E> values,
                      Stringify stringify) {
  for (E value : values) {
    std::string spelled = (option + "=" + stringify(value)).str();
    EXPECT_NE(roundTrip(pass, option, stringify(value)).find(spelled), std::string::npos)
        << pass.str() << " does not take " << spelled;
  }
}

TEST(PassOptions, PolicySpellingsMatchTheOptionParser) {
  using P = mpc::PrecisionPolicy;
  expectParsedBack("mpc-assign-precision", "policy", {P::FP32, P::FP16, P::BF16},
                   mpc::stringifyPrecisionPolicy);
  for (P policy : {P::FP32, P::FP16, P::BF16})
    EXPECT_EQ(mpc::parsePrecisionPolicy(mpc::stringifyPrecisionPolicy(policy)), policy);
  EXPECT_EQ(mpc::parsePrecisionPolicy("none"), std::nullopt);
  EXPECT_EQ(roundTrip("mpc-assign-precision", "policy", "fp12"), "");
}

TEST(PassOptions, TrainingSpellingsMatchTheOptionParser) {
  using L = mpc::LossKind;
  using M = mpc::LossScalingMode;
  using O = mpc::OptimizerKind;
  expectParsedBack("mpc-append-loss", "loss", {L::CrossEntropy, L::MSE}, mpc::stringifyLossKind);
  expectParsedBack("mpc-loss-scaling", "mode", {M::Dynamic, M::Static, M::None},
                   mpc::stringifyLossScalingMode);
  expectParsedBack("mpc-optimizer", "optimizer", {O::SGD, O::AdamW}, mpc::stringifyOptimizerKind);
  for (L loss : {L::CrossEntropy, L::MSE})
    EXPECT_EQ(mpc::parseLossKind(mpc::stringifyLossKind(loss)), loss);
  for (O optimizer : {O::SGD, O::AdamW})
    EXPECT_EQ(mpc::parseOptimizerKind(mpc::stringifyOptimizerKind(optimizer)), optimizer);
  EXPECT_EQ(mpc::parseLossKind("hinge"), std::nullopt);
  EXPECT_EQ(mpc::parseOptimizerKind("adam"), std::nullopt);
}

TEST(PassOptions, InputRangesAreAList) {
  std::string printed = roundTrip("mpc-assign-precision", "input-ranges", "x:0:1,y:-1:1");
  EXPECT_NE(printed.find("input-ranges={x:0:1,y:-1:1}"), std::string::npos) << printed;
}

TEST(PassOptions, LowerToLLVMOptionsParse) {
  auto defaults = mpc::LowerToLLVMOptions::createFromString("");
  ASSERT_TRUE(defaults);
  EXPECT_TRUE(defaults->emitCInterface);
  EXPECT_TRUE(defaults->parallelLoops);
  EXPECT_TRUE(defaults->outlineKernels);
  EXPECT_TRUE(defaults->approximateMath);
  auto sequential =
      mpc::LowerToLLVMOptions::createFromString("parallel-loops=false approximate-math=false");
  ASSERT_TRUE(sequential);
  EXPECT_FALSE(sequential->parallelLoops);
  EXPECT_FALSE(sequential->approximateMath);
  EXPECT_TRUE(sequential->outlineKernels);
  EXPECT_FALSE(mpc::LowerToLLVMOptions::createFromString("threads=2"));
}

} // namespace
