//===- Json.h - a small JSON reader and writer ------------------*- C++ -*-===//
//
// Enough JSON for the trainer's manifest, safetensors headers and log lines.
// Objects keep their members in insertion order so that what the trainer
// writes (checkpoints, logs) is byte-for-byte reproducible.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_TRAINER_JSON_H
#define MPC_TRAINER_JSON_H

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mpc::trainer {

class Json {
public:
  enum class Kind { Null, Bool, Number, String, Array, Object };

  Json() = default;
  static Json boolean(bool value);
  static Json number(double value);
  /// A number that came from a float: written in the shortest form that
  /// reads back to the same float (the log's losses), not the double's.
  static Json single(float value);
  static Json integer(int64_t value);
  static Json string(std::string value);
  static Json array();
  static Json object();

  Kind kind() const { return kind_; }
  bool isNull() const { return kind_ == Kind::Null; }
  bool isBool() const { return kind_ == Kind::Bool; }
  bool isNumber() const { return kind_ == Kind::Number; }
  /// A number written without fraction or exponent that fits in int64.
  bool isInteger() const { return kind_ == Kind::Number && isInteger_; }
  bool isString() const { return kind_ == Kind::String; }
  bool isArray() const { return kind_ == Kind::Array; }
  bool isObject() const { return kind_ == Kind::Object; }

  bool isSingle() const { return kind_ == Kind::Number && isSingle_; }
  bool asBool() const { return bool_; }
  double asNumber() const { return number_; }
  int64_t asInteger() const { return integer_; }
  const std::string &asString() const { return string_; }
  const std::vector<Json> &items() const { return items_; }
  const std::vector<std::pair<std::string, Json>> &members() const { return members_; }

  /// The member named `key`, or nullptr (also when this is not an object).
  const Json *find(std::string_view key) const;
  /// Appends to an array.
  Json &push(Json value);
  /// Appends a member to an object (keys are not de-duplicated).
  Json &set(std::string key, Json value);

private:
  Kind kind_ = Kind::Null;
  bool bool_ = false;
  bool isInteger_ = false;
  bool isSingle_ = false;
  double number_ = 0;
  int64_t integer_ = 0;
  std::string string_;
  std::vector<Json> items_;
  std::vector<std::pair<std::string, Json>> members_;
  friend class JsonParser;
};

/// Parses one JSON value (RFC 8259; nesting at most 200 deep). Stricter than
/// RFC 8259 asks where a document would be ambiguous: a member name repeated
/// within one object and an unpaired surrogate escape are errors. Bytes in
/// strings are kept as they are (UTF-8 is not validated). On failure returns
/// false and sets `error` to a sentence with the byte offset.
/// unittests/TrainerJsonTest.cpp checks it against llvm::json::parse.
bool parseJson(std::string_view text, Json &value, std::string &error);

/// Compact JSON. Non-finite numbers (which JSON cannot spell) are written as
/// null; other numbers in the shortest form that reads back to the same double.
std::string writeJson(const Json &value);

} // namespace mpc::trainer

#endif // MPC_TRAINER_JSON_H
