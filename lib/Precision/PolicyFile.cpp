//===- PolicyFile.cpp - user overrides for precision assignment -----------===//
#include "PolicyFile.h"

#include "mpc/Dialect/MpcDialect.h"

#include "mlir/IR/OperationSupport.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SetOperations.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/GlobPattern.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

using namespace mlir;
using namespace mpc;

static llvm::Error fileError(const std::string &path, const llvm::Twine &message) {
  return llvm::createStringError("policy file '" + path + "': " + message);
}

static llvm::Error ruleError(const std::string &path, const PolicyRule &rule,
                             const llvm::Twine &message) {
  return fileError(path, describeRule(rule) + ": " + message);
}

std::string mpc::describeRule(const PolicyRule &rule) {
  return "rule #" + std::to_string(rule.index) + " " + rule.text;
}

/// Both the ONNX-style names of the schema and MLIR's type names are
/// accepted, since users copy them from either world.
static FloatType parsePrecision(StringRef name, MLIRContext *context) {
  return llvm::StringSwitch<FloatType>(name)
      .Cases({"f32", "fp32"}, Float32Type::get(context))
      .Cases({"f16", "fp16"}, Float16Type::get(context))
      .Case("bf16", BFloat16Type::get(context))
      .Default(FloatType());
}

/// Reads an optional precision-valued key of `object`; `what` names the
/// place for the message.
static llvm::Error readPrecision(const llvm::json::Object &object, StringRef key,
                                 MLIRContext *context, FloatType &result,
                                 llvm::function_ref<llvm::Error(const llvm::Twine &)> fail) {
  const llvm::json::Value *value = object.get(key);
  if (!value)
    return llvm::Error::success();
  std::optional<StringRef> name = value->getAsString();
  result = name ? parsePrecision(*name, context) : FloatType();
  if (!result)
    return fail("\"" + key + "\" must be one of \"f32\", \"fp16\", \"bf16\", got " +
                llvm::formatv("{0}", *value).str());
  return llvm::Error::success();
}

static llvm::Expected<PolicyRule> parseRule(const std::string &path, unsigned index,
                                            const llvm::json::Value &value, MLIRContext *context) {
  PolicyRule rule;
  rule.index = index;
  rule.text = llvm::formatv("{0}", value).str();
  auto fail = [&](const llvm::Twine &message) { return ruleError(path, rule, message); };
  const llvm::json::Object *object = value.getAsObject();
  if (!object)
    return fail("a rule must be an object with \"op\", \"match\" or \"between\"");

  // A misspelt key would otherwise be ignored and the rule half applied.
  for (const auto &entry : *object)
    if (!llvm::is_contained({"op", "match", "between", "precision", "accumulator"},
                            StringRef(entry.first)))
      return fail("unknown key \"" + entry.first.str() +
                  "\"; a rule has \"op\", \"match\" or \"between\", \"precision\" and "
                  "optionally \"accumulator\"");
  unsigned selectors = llvm::count_if(llvm::ArrayRef<StringRef>{"op", "match", "between"},
                                      [&](StringRef key) { return object->get(key); });
  if (selectors != 1)
    return fail("a rule needs exactly one of \"op\", \"match\" or \"between\"");

  if (std::optional<StringRef> op = object->getString("op")) {
    rule.kind = PolicyRule::Kind::OpName;
    rule.subject = op->str();
    if (!RegisteredOperationName::lookup(*op, context))
      return fail("unknown op '" + *op + "'; use a full name such as \"mpc.softmax\"");
  } else if (std::optional<StringRef> pattern = object->getString("match")) {
    rule.kind = PolicyRule::Kind::Glob;
    rule.subject = pattern->str();
    // Checked here, compiled again where it is matched: a GlobPattern points
    // into the text it was made from, and the JSON text is freed after parsing.
    llvm::Expected<llvm::GlobPattern> glob = llvm::GlobPattern::create(*pattern);
    if (!glob)
      return fail("bad glob: " + llvm::toString(glob.takeError()));
  } else if (const llvm::json::Array *ends = object->getArray("between")) {
    rule.kind = PolicyRule::Kind::Between;
    if (ends->size() != 2 || !(*ends)[0].getAsString() || !(*ends)[1].getAsString())
      return fail("\"between\" must be a list of two node names");
    rule.subject = (*ends)[0].getAsString()->str();
    rule.last = (*ends)[1].getAsString()->str();
  } else {
    return fail("\"op\" and \"match\" take a string, \"between\" a list of two node names");
  }

  if (!object->get("precision"))
    return fail("missing \"precision\"");
  if (llvm::Error error = readPrecision(*object, "precision", context, rule.precision, fail))
    return std::move(error);
  if (llvm::Error error = readPrecision(*object, "accumulator", context, rule.accumulator, fail))
    return std::move(error);
  return rule;
}

llvm::Expected<PolicyFile> mpc::parsePolicyFile(StringRef path, MLIRContext *context) {
  PolicyFile policy;
  policy.path = path.str();
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return fileError(policy.path, "cannot read: " + buffer.getError().message());
  llvm::Expected<llvm::json::Value> json = llvm::json::parse((*buffer)->getBuffer());
  if (!json)
    return fileError(policy.path, "malformed JSON: " + llvm::toString(json.takeError()));
  const llvm::json::Object *root = json->getAsObject();
  if (!root)
    return fileError(policy.path, "the top level must be an object with \"rules\"");

  auto fail = [&](const llvm::Twine &message) { return fileError(policy.path, message); };
  for (const auto &entry : *root)
    if (!llvm::is_contained({"default", "accumulator", "rules"}, StringRef(entry.first)))
      return fail("unknown key \"" + entry.first.str() +
                  "\"; the top level has \"default\", \"accumulator\" and \"rules\"");
  if (llvm::Error error = readPrecision(*root, "default", context, policy.defaultType, fail))
    return std::move(error);
  if (llvm::Error error = readPrecision(*root, "accumulator", context, policy.accumulator, fail))
    return std::move(error);

  const llvm::json::Value *rules = root->get("rules");
  if (!rules)
    return policy;
  const llvm::json::Array *list = rules->getAsArray();
  if (!list)
    return fail("\"rules\" must be a list");
  for (auto [index, value] : llvm::enumerate(*list)) {
    llvm::Expected<PolicyRule> rule = parseRule(policy.path, index, value, context);
    if (!rule)
      return rule.takeError();
    policy.rules.push_back(std::move(*rule));
  }
  return policy;
}

static StringRef nodeName(Operation *op) {
  auto name = op->getAttrOfType<StringAttr>(kNodeNameAttr);
  return name ? name.getValue() : StringRef();
}

/// Every op reachable from `starts` along def-use edges (forward: to users;
/// backward: to defining ops), the starts included.
static llvm::DenseSet<Operation *> reach(ArrayRef<Operation *> starts, bool forward) {
  llvm::DenseSet<Operation *> seen(starts.begin(), starts.end());
  SmallVector<Operation *> work(starts.begin(), starts.end());
  while (!work.empty()) {
    Operation *op = work.pop_back_val();
    auto visit = [&](Operation *next) {
      if (next && seen.insert(next).second)
        work.push_back(next);
    };
    if (forward) {
      for (Operation *user : op->getUsers())
        visit(user);
    } else {
      for (Value operand : op->getOperands())
        visit(operand.getDefiningOp());
    }
  }
  return seen;
}

namespace {
/// The ops a rule applies to, or why it applies to none.
struct RuleMatch {
  SmallVector<Operation *> ops;
  std::string note;
};
} // namespace

/// "node 'a'" or "nodes 'a', 'b' and 3 more".
static std::string nodeList(ArrayRef<StringRef> names) {
  constexpr size_t kShown = 3;
  std::string text = names.size() == 1 ? "node " : "nodes ";
  for (auto [i, name] : llvm::enumerate(names.take_front(kShown)))
    text += (i ? ", '" : "'") + name.str() + "'";
  if (names.size() > kShown)
    text += " and " + std::to_string(names.size() - kShown) + " more";
  return text;
}

static std::string foldedNote(const PolicyRule &rule, ArrayRef<StringRef> names) {
  return describeRule(rule) + " names " + nodeList(names) + ", folded away at import (into " +
         "a constant, or into an input): the rule has nothing to apply to";
}

static llvm::Expected<RuleMatch> matchRule(const std::string &path, const PolicyRule &rule,
                                           ArrayRef<Operation *> ops,
                                           ArrayRef<StringRef> foldedNodes) {
  RuleMatch match;
  SmallVector<Operation *> &matched = match.ops;
  switch (rule.kind) {
  case PolicyRule::Kind::OpName:
    for (Operation *op : ops)
      if (op->getName().getStringRef() == rule.subject)
        matched.push_back(op);
    if (matched.empty())
      return ruleError(path, rule,
                       "no '" + rule.subject +
                           "' op in this program takes a precision; remove the rule");
    return match;
  case PolicyRule::Kind::Glob: {
    llvm::GlobPattern glob = llvm::cantFail(llvm::GlobPattern::create(rule.subject));
    for (Operation *op : ops)
      if (!nodeName(op).empty() && glob.match(nodeName(op)))
        matched.push_back(op);
    if (!matched.empty())
      return match;
    SmallVector<StringRef> folded;
    for (StringRef name : foldedNodes)
      if (glob.match(name))
        folded.push_back(name);
    if (folded.empty())
      return ruleError(path, rule,
                       "no node name matches '" + rule.subject +
                           "'; node names are the ONNX node names (mpc.node)");
    match.note = foldedNote(rule, folded);
    return match;
  }
  case PolicyRule::Kind::Between:
    break;
  }

  SmallVector<Operation *> firsts, lasts;
  for (Operation *op : ops) {
    if (nodeName(op) == rule.subject)
      firsts.push_back(op);
    if (nodeName(op) == rule.last)
      lasts.push_back(op);
  }
  SmallVector<StringRef> folded;
  for (auto [ends, name] : {std::pair(&firsts, &rule.subject), std::pair(&lasts, &rule.last)}) {
    if (!ends->empty())
      continue;
    if (!llvm::is_contained(foldedNodes, *name))
      return ruleError(path, rule, "no node named '" + *name + "' takes a precision");
    folded.push_back(*name);
  }
  if (!folded.empty()) {
    match.note = foldedNote(rule, folded);
    return match;
  }
  // An op is between A and B when it is reachable from A and reaches B.
  llvm::DenseSet<Operation *> after = reach(firsts, /*forward=*/true);
  llvm::DenseSet<Operation *> before = reach(lasts, /*forward=*/false);
  for (Operation *op : ops)
    if (after.contains(op) && before.contains(op))
      matched.push_back(op);
  if (matched.empty())
    return ruleError(path, rule,
                     "no path leads from '" + rule.subject + "' to '" + rule.last +
                         "'; check the order of the two nodes");
  return match;
}

llvm::Expected<PolicyMatch> mpc::matchPolicyRules(const PolicyFile &policy,
                                                  ArrayRef<Operation *> ops,
                                                  ArrayRef<StringRef> foldedNodes) {
  PolicyMatch result;
  for (const PolicyRule &rule : policy.rules) {
    llvm::Expected<RuleMatch> matched = matchRule(policy.path, rule, ops, foldedNodes);
    if (!matched)
      return matched.takeError();
    if (!matched->note.empty())
      result.notes.push_back(std::move(matched->note));
    // Later rules win: they simply overwrite.
    for (Operation *op : matched->ops)
      result.overrides[op] = PolicyOverride{&rule};
  }
  return result;
}
