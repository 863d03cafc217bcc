//===- StateSchema.cpp - what a checkpoint must match to resume -----------===//
#include "mpc/Trainer/StateSchema.h"

#include "mpc/Runtime/ManifestKeys.h"
#include "mpc/Trainer/Json.h"

#include <algorithm>

namespace mpc::trainer {
namespace {
/// "param f32 [10,4]".
std::string describe(const TensorDesc &desc) {
  std::string text = desc.role + " " + std::string(runtime::elementName(desc.kind)) + " [";
  for (size_t i = 0; i < desc.shape.size(); ++i)
    text += (i ? "," : "") + std::to_string(desc.shape[i]);
  return text + "]";
}

/// The state arguments (or the others) of `args` by name, in byte order.
Json argumentsByName(const std::vector<TensorDesc> &args, bool state) {
  std::vector<const TensorDesc *> chosen;
  for (const TensorDesc &arg : args)
    if (arg.isState() == state)
      chosen.push_back(&arg);
  std::sort(chosen.begin(), chosen.end(), [](const TensorDesc *a, const TensorDesc *b) {
    return a->name < b->name || (a->name == b->name && a < b); // ties in argument order
  });
  Json object = Json::object();
  for (const TensorDesc *arg : chosen)
    object.set(arg->name, Json::string(describe(*arg)));
  return object;
}

/// A member's value as an error shows it: strings without quotes.
std::string shown(const Json &value) {
  return value.isString() ? value.asString() : writeJson(value);
}

/// The first difference between the "data" or "state" members.
std::string tensorDifference(const char *noun, const Json *written, const Json &expected) {
  for (const auto &[name, value] : expected.members()) {
    const Json *found = written ? written->find(name) : nullptr;
    if (!found)
      return "the checkpoint lacks this trainer's " + std::string(noun) + " '" + name + "' (" +
             shown(value) + ")";
    if (writeJson(*found) != writeJson(value))
      return std::string(noun) + " '" + name + "' is " + shown(*found) + " in the checkpoint, " +
             shown(value) + " in this trainer";
  }
  if (written)
    for (const auto &[name, value] : written->members())
      if (!expected.find(name))
        return "the checkpoint has " + std::string(noun) + " '" + name + "' (" + shown(value) +
               "), which this trainer lacks";
  return "";
}
} // namespace

std::string stateSchema(const Manifest &manifest) {
  const TensorDesc *output = manifest.isInference() ? nullptr : manifest.lossOutput();
  Json lossScale = Json::object();
  lossScale.set("mode", Json::string(manifest.lossScaleMode));
  if (manifest.lossScaleMode != manifest::scale_mode::kNone)
    lossScale.set("scale", Json::number(manifest.staticLossScale));
  Json optimizer;
  std::string error;
  if (!manifest.optimizer.empty() && !parseJson(manifest.optimizer, optimizer, error))
    optimizer = Json::string(manifest.optimizer); // not reached: the manifest parser wrote it
  const std::vector<TensorDesc> &args = manifest.stateSignature().args;
  Json schema = Json::object();
  schema.set("batch", Json::integer(manifest.batch));
  schema.set("precision", Json::string(manifest.precision));
  schema.set("loss", Json::string(manifest.loss));
  schema.set("label", Json::string(manifest.label));
  schema.set("output", Json::string(output ? output->name : ""));
  schema.set("optimizer", std::move(optimizer));
  schema.set("loss_scale", std::move(lossScale));
  schema.set("data", argumentsByName(args, false));
  schema.set("state", argumentsByName(args, true));
  return writeJson(schema);
}

std::string stateSchemaDifference(const std::string &written, const std::string &expected) {
  Json have, want;
  std::string error;
  if (!parseJson(written, have, error) || !have.isObject())
    return "its state_schema is not a JSON object";
  if (!parseJson(expected, want, error))
    return "this trainer's state schema is not JSON";
  for (const auto &[key, value] : want.members()) {
    const Json *found = have.find(key);
    if (key == "data" || key == "state") {
      std::string difference =
          tensorDifference(key == "data" ? "batch argument" : "state tensor",
                           found && found->isObject() ? found : nullptr, value);
      if (!difference.empty())
        return difference;
    } else if (!found) {
      return "the checkpoint records no " + key + ", this trainer has " + shown(value);
    } else if (writeJson(*found) != writeJson(value)) {
      return "the checkpoint was written with " + key + " " + shown(*found) +
             ", this trainer has " + shown(value);
    }
  }
  for (const auto &[key, value] : have.members())
    if (!want.find(key))
      return "the checkpoint records " + key + " " + shown(value) + ", which this trainer does not";
  return "";
}

} // namespace mpc::trainer
