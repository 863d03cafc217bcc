//===- PolicyFile.h - user overrides for precision assignment ---*- C++ -*-===//
//
// A policy file (JSON, see docs/precision-policy.md) lets a user pin ops to a
// precision by op type, ONNX node-name glob or the region between two nodes.
// Overrides are hard constraints, so every rule must match something: a rule
// that would be silently dropped is an error instead, unless what it names
// is a node the importer folded away, which the report then notes.
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

/// What the rules of a policy file apply to.
struct PolicyMatch {
  llvm::DenseMap<mlir::Operation *, PolicyOverride> overrides;
  /// One sentence per rule that names only nodes the importer folded away
  /// (accepted: the model has them, nothing is left to apply the rule to).
  std::vector<std::string> notes;
};

/// Matches every rule against `ops` (the ops that get a precision, in program
/// order). A node name that no op carries is fine when it is in
/// `foldedNodes` (the module's kFoldedNodesAttr): the rule gets a note.
/// Otherwise fails, naming the rule, when a rule matches none of the ops or a
/// region's endpoints are missing or not connected.
llvm::Expected<PolicyMatch> matchPolicyRules(const PolicyFile &policy,
                                             llvm::ArrayRef<mlir::Operation *> ops,
                                             llvm::ArrayRef<llvm::StringRef> foldedNodes);

/// "rule #2 {"op":"mpc.softmax",...}": how messages and reasons cite a rule.
std::string describeRule(const PolicyRule &rule);

} // namespace mpc

#endif // MPC_LIB_PRECISION_POLICYFILE_H
