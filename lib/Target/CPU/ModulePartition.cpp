//===- ModulePartition.cpp - an LLVM module in parts to optimize apart ----===//
#include "mpc/Target/CPU/ModulePartition.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/EquivalenceClasses.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/Function.h"
#include "llvm/IR/GlobalVariable.h"
#include "llvm/IR/InstIterator.h"
#include "llvm/IR/Instruction.h"
#include "llvm/IR/Module.h"
#include "llvm/Transforms/Utils/Cloning.h"
#include "llvm/Transforms/Utils/ValueMapper.h"

#include <algorithm>
#include <numeric>

using namespace llvm;

namespace mpc {
namespace {
constexpr unsigned kNoPart = ~0u;
/// A function referred to by up to this many others goes to their part (and
/// ties them together): a kernel's parallel body, which the kernel and its
/// async dispatch function call.
constexpr size_t kInlinedOwners = 4;
/// The largest function copied into every part that uses it.
constexpr unsigned kCopiedFunctionInstructions = 32;

/// The defined global values whose definitions hold `user` (an instruction:
/// its function; a constant: the globals whose initializers contain it).
void collectOwners(const User *user, SmallPtrSetImpl<const GlobalValue *> &owners,
                   SmallPtrSetImpl<const User *> &visited) {
  if (!visited.insert(user).second)
    return;
  if (auto *instruction = dyn_cast<Instruction>(user)) {
    owners.insert(instruction->getFunction());
    return;
  }
  if (auto *global = dyn_cast<GlobalValue>(user)) {
    owners.insert(global);
    return;
  }
  for (const User *next : user->users())
    collectOwners(next, owners, visited);
}

/// A constant that names no global value (numbers, arrays and structs of them).
bool isPlainData(const Constant *constant) {
  if (isa<ConstantData>(constant))
    return true;
  if (!isa<ConstantAggregate>(constant))
    return false;
  for (const Use &operand : constant->operands())
    if (!isPlainData(cast<Constant>(operand.get())))
      return false;
  return true;
}

/// A small read-only global of plain data: every part that reads it gets a copy
/// to fold its loads with.
bool isCopiedConstant(const GlobalValue &value) {
  auto *variable = dyn_cast<GlobalVariable>(&value);
  if (!variable || !variable->isConstant() || !variable->hasInitializer() ||
      variable->isInterposable() || variable->hasComdat() || variable->isThreadLocal())
    return false;
  const DataLayout &layout = value.getParent()->getDataLayout();
  return layout.getTypeAllocSize(variable->getValueType()) <= kCopiedConstantBytes &&
         isPlainData(variable->getInitializer());
}

/// A small internal function that only calls declared functions (the async
/// lowering's `__resume`, which every async task refers to): every part that
/// uses it gets a copy of its own instead of tying all its users together.
bool isCopiedFunction(const GlobalValue &value) {
  auto *function = dyn_cast<Function>(&value);
  if (!function || function->isDeclaration() || !function->hasLocalLinkage() ||
      function->hasComdat() || function->getInstructionCount() > kCopiedFunctionInstructions)
    return false;
  for (const Instruction &instruction : instructions(*function))
    for (const Use &operand : instruction.operands()) {
      const Value *used = operand.get()->stripPointerCasts();
      if (isa<GlobalValue>(used) && !cast<GlobalValue>(used)->isDeclaration())
        return false;
      if (isa<ConstantExpr>(used) || isa<BlockAddress>(used))
        return false;
    }
  return true;
}

/// How much optimizer and code generator work a global value is.
uint64_t sizeOf(const GlobalValue &value) {
  if (auto *function = dyn_cast<Function>(&value))
    return 1 + function->getInstructionCount();
  return 1;
}

/// The defined global values whose definitions refer to `value`, itself left out.
SmallPtrSet<const GlobalValue *, 8> ownersOf(const GlobalValue &value) {
  SmallPtrSet<const GlobalValue *, 8> owners;
  SmallPtrSet<const User *, 8> visited;
  for (const User *user : value.users())
    collectOwners(user, owners, visited);
  owners.erase(&value);
  return owners;
}

/// Whether each part that refers to `value` gets a copy of it (rather than
/// `value` going to its users' part, or being referred to across parts).
bool isCopied(const GlobalValue &value, size_t owners) {
  return isCopiedConstant(value) || (owners > kInlinedOwners && isCopiedFunction(value));
}
} // namespace

std::vector<unsigned> partitionModule(Module &module, unsigned parts) {
  parts = std::max(parts, 1u);
  std::vector<GlobalValue *> values;
  DenseMap<const GlobalValue *, unsigned> indexOf;
  for (GlobalValue &value : module.global_values()) {
    indexOf[&value] = values.size();
    values.push_back(&value);
  }
  // Groups that go to one part: a definition and what it may inline or must
  // stay with. A function that many functions refer to (more than
  // kInlinedOwners) ties none of them together: it is copied into their
  // parts if it is small, else called across parts.
  EquivalenceClasses<unsigned> groups;
  for (unsigned i = 0; i < values.size(); ++i)
    if (!values[i]->isDeclaration())
      groups.insert(i);
  DenseMap<const Comdat *, unsigned> comdatLeader;
  for (unsigned i = 0; i < values.size(); ++i) {
    GlobalValue &value = *values[i];
    if (value.isDeclaration())
      continue;
    if (const Comdat *comdat = value.getComdat()) {
      auto [it, inserted] = comdatLeader.try_emplace(comdat, i);
      if (!inserted)
        groups.unionSets(it->second, i);
    }
    SmallPtrSet<const GlobalValue *, 8> owners = ownersOf(value);
    auto *function = dyn_cast<Function>(&value);
    bool alone = isCopied(value, owners.size()) ||
                 (function && (function->hasFnAttribute(Attribute::NoInline) ||
                               owners.size() > kInlinedOwners)) ||
                 (!function && owners.size() > 1);
    for (const GlobalValue *owner : owners) {
      bool indirect = isa<GlobalAlias>(owner) || isa<GlobalIFunc>(owner) ||
                      isa<GlobalAlias>(value) || isa<GlobalIFunc>(value);
      if (!owner->isDeclaration() && (!alone || indirect))
        groups.unionSets(indexOf.lookup(owner), i);
    }
  }
  // Largest group first, each to the part with the least work so far.
  struct Group {
    unsigned leader;
    uint64_t size = 0;
  };
  std::vector<Group> list;
  DenseMap<unsigned, unsigned> groupOf; // leader -> index in list
  for (unsigned i = 0; i < values.size(); ++i) {
    if (values[i]->isDeclaration())
      continue;
    unsigned leader = groups.getLeaderValue(i);
    auto [it, inserted] = groupOf.try_emplace(leader, list.size());
    if (inserted)
      list.push_back({leader});
    list[it->second].size += sizeOf(*values[i]);
  }
  std::vector<unsigned> order(list.size());
  std::iota(order.begin(), order.end(), 0);
  llvm::sort(order, [&](unsigned a, unsigned b) {
    return list[a].size != list[b].size ? list[a].size > list[b].size : a < b;
  });
  std::vector<uint64_t> load(parts, 0);
  std::vector<unsigned> partOfGroup(list.size());
  for (unsigned g : order) {
    unsigned part = std::min_element(load.begin(), load.end()) - load.begin();
    partOfGroup[g] = part;
    load[part] += list[g].size;
  }
  std::vector<unsigned> result(values.size(), kNoPart);
  for (unsigned i = 0; i < values.size(); ++i)
    if (!values[i]->isDeclaration())
      result[i] = partOfGroup[groupOf.lookup(groups.getLeaderValue(i))];
  return result;
}

void splitModuleForParallelCodegen(Module &module, unsigned parts,
                                   function_ref<void(std::unique_ptr<Module>)> consume) {
  parts = std::max(parts, 1u);
  std::vector<unsigned> partOf = partitionModule(module, parts);
  DenseMap<const GlobalValue *, unsigned> part;
  unsigned index = 0;
  for (GlobalValue &value : module.global_values())
    part[&value] = partOf[index++];

  // Which parts get a copy of each copied value; other internal symbols
  // that another part refers to become hidden external ones.
  DenseMap<const GlobalValue *, SmallVector<unsigned, 2>> copiedInto;
  for (GlobalValue &value : module.global_values()) {
    if (value.isDeclaration())
      continue;
    SmallPtrSet<const GlobalValue *, 8> owners = ownersOf(value);
    bool copied = isCopied(value, owners.size());
    bool crosses = false;
    for (const GlobalValue *owner : owners) {
      unsigned ownerPart = part.lookup(owner);
      if (ownerPart == kNoPart || ownerPart == part.lookup(&value))
        continue;
      crosses = true;
      if (copied) {
        SmallVector<unsigned, 2> &into = copiedInto[&value];
        if (!llvm::is_contained(into, ownerPart))
          into.push_back(ownerPart);
      }
    }
    // An internal value's copies are internal ones: nothing refers to it
    // across parts.
    if (!crosses || (copied && value.hasLocalLinkage()))
      continue;
    if (!value.hasName())
      value.setName("mpc_part_unnamed");
    if (value.hasLocalLinkage()) {
      value.setLinkage(GlobalValue::ExternalLinkage);
      value.setVisibility(GlobalValue::HiddenVisibility);
    }
  }

  for (unsigned i = 0; i < parts; ++i) {
    ValueToValueMapTy map;
    auto isCopyHere = [&](const GlobalValue *value) {
      auto it = copiedInto.find(value);
      return it != copiedInto.end() && llvm::is_contained(it->second, i);
    };
    std::unique_ptr<Module> piece = CloneModule(module, map, [&](const GlobalValue *value) {
      return part.lookup(value) == i || isCopyHere(value);
    });
    for (auto &[value, into] : copiedInto)
      if (llvm::is_contained(into, i) && !value->hasLocalLinkage())
        cast<GlobalValue>(map[value])->setLinkage(GlobalValue::AvailableExternallyLinkage);
    consume(std::move(piece));
  }
}

} // namespace mpc
