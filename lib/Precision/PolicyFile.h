//===- PolicyFile.h - user overrides for precision assignment ---*- C++ -*-===//
//
// A policy file (JSON, see docs/precision-policy.md) lets a user pin ops to a
// precision by op type, ONNX node-name glob or the region between two nodes.
// Overrides are hard constraints, so every rule must match something: a rule
// that would be silently dropped is an error instead.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_LIB_PRECISION_POLICYFILE_H
#define MPC_LIB_PRECISION_POLICYFILE_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Operation.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace mpc {

struct PolicyRule {
  enum class Kind { OpName, Glob, Between };
  Kind kind;
  /// Position in "rules" and the rule as written, for messages.
  unsigned index;
  std::string text;
  /// OpName: the op name; Glob: the pattern; Between: the first node.
  std::string subject;
  /// Between: the last node.
  std::string last;
  mlir::FloatType precision;
  /// Null when the rule does not set one.
  mlir::FloatType accumulator;
};

struct PolicyFile {
  std::string path;
  /// Null when the file does not set them.
  mlir::FloatType defaultType;
  mlir::FloatType accumulator;
  std::vector<PolicyRule> rules;
};

/// The override that applies to one op: the last matching rule wins.
struct PolicyOverride {
  const PolicyRule *rule;
};

/// Reads and validates `path` (syntax, keys, precisions, op names). The error
/// names the file and, for a bad rule, its index and text.
llvm::Expected<PolicyFile> parsePolicyFile(llvm::StringRef path, mlir::MLIRContext *context);

/// Matches every rule against `ops` (the ops that get a precision, in program
/// order). Fails, naming the rule, when a rule matches none of them or a
/// region's endpoints are missing or not connected.
llvm::Expected<llvm::DenseMap<mlir::Operation *, PolicyOverride>>
matchPolicyRules(const PolicyFile &policy, llvm::ArrayRef<mlir::Operation *> ops);

/// "rule #2 {"op":"mpc.softmax",...}": how messages and reasons cite a rule.
std::string describeRule(const PolicyRule &rule);

} // namespace mpc

#endif // MPC_LIB_PRECISION_POLICYFILE_H
