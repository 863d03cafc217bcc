//===- TargetMachine.cpp - `--mcpu` -> CPU, features, code generator ------===//
#include "mpc/Target/CPU/TargetMachine.h"


#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"

#include <algorithm>

namespace mpc {
namespace {
llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

llvm::Expected<const llvm::Target *> hostTarget(const llvm::Triple &triple) {
  static bool ready = [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    return true;
  }();
  (void)ready;
  std::string error;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return fail("no code generator for the host (" + triple.str() + "): " + error);
  return target;
}

std::string featureString(llvm::ArrayRef<std::string> features) {
  llvm::SubtargetFeatures list;
  for (const std::string &feature : features)
    list.AddFeature(feature);
  return list.getString();
}
} // namespace

llvm::Expected<ResolvedCPU> resolveCPU(llvm::StringRef mcpu) {
  llvm::Triple triple(llvm::sys::getProcessTriple());
  llvm::Expected<const llvm::Target *> target = hostTarget(triple);
  if (!target)
    return target.takeError();
  ResolvedCPU resolved;
  if (mcpu == "native") {
    resolved.cpu = llvm::sys::getHostCPUName().str();
    for (const auto &feature : llvm::sys::getHostCPUFeatures())
      resolved.features.push_back((feature.second ? "+" : "-") + feature.first().str());
  } else {
    resolved.cpu = mcpu.str();
  }
  // Checked on a CPU-less subtarget: one made for an unknown CPU prints a
  // warning of its own.
  std::unique_ptr<llvm::MCSubtargetInfo> baseline((*target)->createMCSubtargetInfo(triple, "", ""));
  if (!baseline || !baseline->isCPUStringValid(resolved.cpu))
    return fail("--mcpu: '" + mcpu + "' is not a CPU LLVM knows for " + triple.getArchName() +
                " (use native, generic or a name such as x86-64-v3, skylake, znver4)");
  std::unique_ptr<llvm::MCSubtargetInfo> subtarget((*target)->createMCSubtargetInfo(
      triple, resolved.cpu, featureString(resolved.features)));
  for (const llvm::SubtargetFeatureKV &feature : subtarget->getAllProcessorFeatures())
    if (subtarget->getFeatureBits().test(feature.Value))
      resolved.enabledFeatures.push_back(std::string("+") + feature.Key);
  llvm::sort(resolved.enabledFeatures);
  resolved.target = CPUTarget::fromFeatures(resolved.enabledFeatures);
  return resolved;
}

llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
createTargetMachine(const ResolvedCPU &cpu, llvm::CodeGenOptLevel level) {
  llvm::Triple triple(llvm::sys::getProcessTriple());
  llvm::Expected<const llvm::Target *> target = hostTarget(triple);
  if (!target)
    return target.takeError();
  std::unique_ptr<llvm::TargetMachine> machine((*target)->createTargetMachine(
      triple, cpu.cpu, featureString(cpu.features), llvm::TargetOptions(), llvm::Reloc::PIC_,
      std::nullopt, level));
  if (!machine)
    return fail("cannot create a code generator for CPU '" + cpu.cpu + "' on " + triple.str());
  return machine;
}

llvm::Expected<std::unique_ptr<llvm::TargetMachine>> createTargetMachine(llvm::StringRef mcpu) {
  llvm::Expected<ResolvedCPU> cpu = resolveCPU(mcpu);
  if (!cpu)
    return cpu.takeError();
  return createTargetMachine(*cpu, llvm::CodeGenOptLevel::Aggressive);
}

llvm::Error checkRunsOnHost(const ResolvedCPU &cpu) {
  llvm::Expected<ResolvedCPU> host = resolveCPU("native");
  if (!host)
    return host.takeError();
  std::vector<std::string> missing = cpu.target.missingOn(host->target);
  if (missing.empty())
    return llvm::Error::success();
  return fail("--mcpu " + cpu.cpu + ": code for it needs " + llvm::join(missing, ", ") +
              ", which this CPU (" + host->cpu + ") lacks; the JIT runs what it compiles, so pick a "
              "CPU this machine covers (e.g. x86-64-v2, generic, native)");
}

std::string describe(const ResolvedCPU &cpu) {
  return "cpu: " + cpu.cpu + "\ntarget: " + cpu.target.summary() + "\nfeatures: " +
         llvm::join(cpu.enabledFeatures, ",") + "\n";
}
bool useNativeBf16Dot(const ResolvedCPU &cpu, bool requested, llvm::StringRef tool) {
  if (!requested || cpu.target.avx512bf16)
    return requested;
  llvm::errs() << tool << ": warning: --native-dot-products: CPU '" << cpu.cpu
               << "' has no avx512bf16; bf16 contractions keep the exact f32 code\n";
  return false;
}

} // namespace mpc
