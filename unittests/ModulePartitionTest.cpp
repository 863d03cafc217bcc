//===- ModulePartitionTest.cpp - an LLVM module in parts ------------------===//
//
// mpc-compile optimizes and compiles a trainer's LLVM module in parts on
// several threads (mpc::splitModuleForParallelCodegen): the parts must
// keep what the optimizer inlines together, define every symbol once, refer
// to each other through hidden symbols, and be balanced.
//
//===----------------------------------------------------------------------===//
#include "mpc/Target/CPU/ModulePartition.h"

#include "llvm/AsmParser/Parser.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/Verifier.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace {
std::unique_ptr<llvm::Module> parse(llvm::LLVMContext &context, const std::string &text) {
  llvm::SMDiagnostic error;
  std::unique_ptr<llvm::Module> module = llvm::parseAssemblyString(text, error, context);
  if (!module)
    error.print("ModulePartitionTest", llvm::errs());
  return module;
}

/// A kernel (noinline, as mpc-outline-kernels makes them) of `n` adds.
std::string kernel(const std::string &name, int n, const std::string &extra = "") {
  std::string text = "define internal void @" + name + "(ptr %p) #0 {\n  %v0 = load float, ptr %p\n";
  for (int i = 1; i <= n; ++i)
    text += "  %v" + std::to_string(i) + " = fadd float %v" + std::to_string(i - 1) + ", 1.0\n";
  text += extra + "  store float %v" + std::to_string(n) + ", ptr %p\n  ret void\n}\n";
  return text;
}

// @main calls @body (inlinable) and the kernels; @body calls @k0; @k1 reads
// the small constant @table, which @main reads too; @big is a large one.
std::string model() {
  std::string text = "@table = internal constant [4 x float] [float 1.0, float 2.0, float 3.0, float 4.0]\n"
                     "@big = internal constant [2000 x float] zeroinitializer\n"
                     "@counter = internal global i64 0\n";
  text += kernel("k0", 40) + kernel("k1", 40, "  %t = load float, ptr @table\n") +
          kernel("k2", 40, "  %b = load float, ptr @big\n") + kernel("k3", 40) + kernel("k4", 40);
  text += "define internal void @body(ptr %p) {\n  call void @k0(ptr %p)\n"
          "  store i64 1, ptr @counter\n  ret void\n}\n"
          "define void @mpc_main(ptr %p) {\n  call void @body(ptr %p)\n  call void @k1(ptr %p)\n"
          "  call void @k2(ptr %p)\n  call void @k3(ptr %p)\n  call void @k4(ptr %p)\n"
          "  %t = load float, ptr getelementptr (float, ptr @table, i64 2)\n"
          "  %b = load float, ptr @big\n  ret void\n}\n"
          "attributes #0 = { noinline }\n";
  return text;
}

struct Split {
  std::vector<std::unique_ptr<llvm::Module>> parts;
  /// symbol -> the parts that define it (not as available_externally)
  std::map<std::string, std::vector<unsigned>> definedIn;
};

Split split(llvm::Module &module, unsigned parts) {
  Split result;
  mpc::splitModuleForParallelCodegen(module, parts, [&](std::unique_ptr<llvm::Module> part) {
    unsigned index = result.parts.size();
    for (llvm::GlobalValue &value : part->global_values())
      if (!value.isDeclaration() && !value.hasAvailableExternallyLinkage())
        result.definedIn[value.getName().str()].push_back(index);
    result.parts.push_back(std::move(part));
  });
  return result;
}

TEST(ModulePartitionTest, EveryDefinitionOnceAndInlinableCallsStayInOnePart) {
  llvm::LLVMContext context;
  std::unique_ptr<llvm::Module> module = parse(context, model());
  ASSERT_TRUE(module);
  Split result = split(*module, 2);
  ASSERT_EQ(result.parts.size(), 2u);
  for (const auto &part : result.parts)
    EXPECT_FALSE(llvm::verifyModule(*part, &llvm::errs()));
  for (const char *name : {"k0", "k1", "k2", "k3", "k4", "body", "mpc_main", "big", "counter"})
    EXPECT_EQ(result.definedIn[name].size(), 1u) << name;
  // @body may be inlined into @mpc_main: the same part; so is @counter,
  // which only @body writes.
  EXPECT_EQ(result.definedIn["body"], result.definedIn["mpc_main"]);
  EXPECT_EQ(result.definedIn["counter"], result.definedIn["body"]);
  // Both parts have code: the kernels are spread.
  for (const auto &part : result.parts) {
    bool hasCode = false;
    for (llvm::Function &function : *part)
      hasCode |= !function.isDeclaration();
    EXPECT_TRUE(hasCode);
  }
}

TEST(ModulePartitionTest, CrossingSymbolsBecomeHiddenAndTheRestStaysInternal) {
  llvm::LLVMContext context;
  std::unique_ptr<llvm::Module> module = parse(context, model());
  ASSERT_TRUE(module);
  Split result = split(*module, 2);
  unsigned mainPart = result.definedIn["mpc_main"].front();
  for (unsigned i = 0; i < 2; ++i)
    for (llvm::Function &function : *result.parts[i]) {
      if (function.isDeclaration() || function.getName() == "mpc_main")
        continue;
      // A kernel in the other part than @mpc_main is called across parts.
      bool crosses = i != mainPart && function.getName().starts_with("k");
      EXPECT_EQ(function.hasLocalLinkage(), !crosses) << function.getName().str();
      if (crosses)
        EXPECT_EQ(function.getVisibility(), llvm::GlobalValue::HiddenVisibility);
    }
  // @body and @counter never cross.
  llvm::Module &main = *result.parts[mainPart];
  EXPECT_TRUE(main.getFunction("body")->hasLocalLinkage());
  EXPECT_TRUE(main.getNamedGlobal("counter")->hasLocalLinkage());
}

TEST(ModulePartitionTest, SmallConstantsAreCopiedLargeOnesDeclared) {
  llvm::LLVMContext context;
  std::unique_ptr<llvm::Module> module = parse(context, model());
  ASSERT_TRUE(module);
  Split result = split(*module, 2);
  for (const char *reader : {"k1", "mpc_main"}) {
    llvm::Module &part = *result.parts[result.definedIn[reader].front()];
    llvm::GlobalVariable *table = part.getNamedGlobal("table");
    ASSERT_TRUE(table) << reader;
    // Readable in every part that reads it, so that loads of it fold: an
    // internal copy of its own.
    EXPECT_TRUE(table->hasInitializer()) << reader;
    EXPECT_TRUE(table->hasLocalLinkage()) << reader;
  }
  for (const char *reader : {"k2", "mpc_main"}) {
    llvm::Module &part = *result.parts[result.definedIn[reader].front()];
    llvm::GlobalVariable *big = part.getNamedGlobal("big");
    ASSERT_TRUE(big);
    if (result.definedIn["big"].front() != result.definedIn[reader].front())
      EXPECT_TRUE(big->isDeclaration()) << "2000 floats are over kCopiedConstantBytes";
  }
}

// The async lowering's `__resume`: a small internal function every task
// refers to. Each part gets a copy; it does not tie the tasks together.
TEST(ModulePartitionTest, ASmallFunctionManyUseIsCopiedAndTiesNothing) {
  llvm::LLVMContext context;
  std::string text = "declare void @llvm.coro.resume(ptr)\n"
                     "define internal void @resume(ptr %h) {\n  call void @llvm.coro.resume(ptr %h)\n"
                     "  ret void\n}\n";
  for (int i = 0; i < 8; ++i)
    text += kernel("task" + std::to_string(i), 20, "  store ptr @resume, ptr %p\n");
  text += "attributes #0 = { noinline }\n";
  std::unique_ptr<llvm::Module> module = parse(context, text);
  ASSERT_TRUE(module);
  Split result = split(*module, 2);
  ASSERT_EQ(result.parts.size(), 2u);
  std::vector<unsigned> tasks(2, 0);
  for (unsigned i = 0; i < 2; ++i) {
    EXPECT_FALSE(llvm::verifyModule(*result.parts[i], &llvm::errs()));
    for (llvm::Function &function : *result.parts[i])
      tasks[i] += !function.isDeclaration() && function.getName().starts_with("task");
    llvm::Function *resume = result.parts[i]->getFunction("resume");
    ASSERT_TRUE(resume);
    EXPECT_FALSE(resume->isDeclaration());
    EXPECT_TRUE(resume->hasLocalLinkage());
  }
  EXPECT_EQ(tasks, (std::vector<unsigned>{4, 4}));
}

TEST(ModulePartitionTest, EqualKernelsAreBalanced) {
  llvm::LLVMContext context;
  std::string text;
  for (int i = 0; i < 12; ++i)
    text += kernel("k" + std::to_string(i), 20);
  text += "attributes #0 = { noinline }\n";
  std::unique_ptr<llvm::Module> module = parse(context, text);
  ASSERT_TRUE(module);
  std::vector<unsigned> parts = mpc::partitionModule(*module, 3);
  std::vector<unsigned> count(3, 0);
  for (unsigned part : parts)
    ++count.at(part);
  EXPECT_EQ(count, (std::vector<unsigned>{4, 4, 4}));
}

TEST(ModulePartitionTest, OnePartIsTheWholeModule) {
  llvm::LLVMContext context;
  std::unique_ptr<llvm::Module> module = parse(context, model());
  ASSERT_TRUE(module);
  Split result = split(*module, 1);
  ASSERT_EQ(result.parts.size(), 1u);
  EXPECT_FALSE(llvm::verifyModule(*result.parts.front(), &llvm::errs()));
  for (llvm::GlobalValue &value : result.parts.front()->global_values())
    if (value.getName() != "mpc_main")
      EXPECT_TRUE(value.hasLocalLinkage()) << value.getName().str();
}
} // namespace
