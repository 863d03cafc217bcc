//===- TrainIR.cpp - argument/result bookkeeping for the training passes --===//
#include "mpc/Train/TrainIR.h"

#include "mpc/Dialect/MpcDialect.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/BitVector.h"

using namespace mlir;

namespace mpc::train {

static StringRef stringAttr(DictionaryAttr dict, StringRef key) {
  if (!dict)
    return "";
  if (auto value = dict.getAs<StringAttr>(key))
    return value.getValue();
  return "";
}

StringRef argRole(func::FuncOp func, unsigned index) {
  return stringAttr(func.getArgAttrDict(index), kRoleAttr);
}
StringRef resultRole(func::FuncOp func, unsigned index) {
  return stringAttr(func.getResultAttrDict(index), kRoleAttr);
}
StringRef argName(func::FuncOp func, unsigned index) {
  return stringAttr(func.getArgAttrDict(index), kIONameAttr);
}
StringRef resultName(func::FuncOp func, unsigned index) {
  return stringAttr(func.getResultAttrDict(index), kIONameAttr);
}

std::optional<unsigned> findResult(func::FuncOp func, StringRef role, StringRef name) {
  for (unsigned i = 0, e = func.getNumResults(); i < e; ++i)
    if (resultRole(func, i) == role && (name.empty() || resultName(func, i) == name))
      return i;
  return std::nullopt;
}

SmallVector<unsigned> findResults(func::FuncOp func, StringRef role) {
  SmallVector<unsigned> indices;
  for (unsigned i = 0, e = func.getNumResults(); i < e; ++i)
    if (resultRole(func, i) == role)
      indices.push_back(i);
  return indices;
}

std::optional<unsigned> findArgument(func::FuncOp func, StringRef role, StringRef name) {
  for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i)
    if (argRole(func, i) == role && (name.empty() || argName(func, i) == name))
      return i;
  return std::nullopt;
}

func::ReturnOp getReturn(func::FuncOp func) {
  return cast<func::ReturnOp>(func.getBody().back().getTerminator());
}

static DictionaryAttr nameAndRole(MLIRContext *context, StringRef name, StringRef role) {
  Builder b(context);
  return b.getDictionaryAttr(
      {b.getNamedAttr(kIONameAttr, b.getStringAttr(name)), b.getNamedAttr(kRoleAttr, b.getStringAttr(role))});
}

unsigned appendArgument(func::FuncOp func, Type type, StringRef name, StringRef role) {
  unsigned index = func.getNumArguments();
  if (failed(func.insertArgument(index, type, nameAndRole(func.getContext(), name, role),
                                 func.getLoc())))
    llvm_unreachable("appending a function argument cannot fail");
  return index;
}

unsigned appendResult(func::FuncOp func, Value value, StringRef name, StringRef role) {
  unsigned index = func.getNumResults();
  if (failed(func.insertResult(index, value.getType(), nameAndRole(func.getContext(), name, role))))
    llvm_unreachable("appending a function result cannot fail");
  func::ReturnOp ret = getReturn(func);
  ret->insertOperands(index, value);
  return index;
}

void setResult(func::FuncOp func, unsigned index, Value value) {
  func::ReturnOp ret = getReturn(func);
  ret->setOperand(index, value);
  SmallVector<Type> results(func.getResultTypes());
  results[index] = value.getType();
  func.setType(FunctionType::get(func.getContext(), func.getArgumentTypes(), results));
}

void eraseResult(func::FuncOp func, unsigned index) {
  func::ReturnOp ret = getReturn(func);
  ret->eraseOperand(index);
  llvm::BitVector erase(func.getNumResults());
  erase.set(index);
  if (failed(func.eraseResults(erase)))
    llvm_unreachable("erasing a function result cannot fail");
}

} // namespace mpc::train
