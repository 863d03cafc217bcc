//===- TrainerJsonTest.cpp - the trainer's JSON reader against llvm::json -===//
//
// A trainer executable links no LLVM, so it reads its manifest and
// safetensors headers with a parser of its own (lib/Trainer/Json.cpp). These
// tests hold that parser to llvm::json::parse, which mpc-compile's writer
// pairs with: on a corpus of valid documents both read the same value, on
// invalid ones both refuse, and the few documents where they part are listed
// with each side's answer and the reason.
//
//===----------------------------------------------------------------------===//
#include "mpc/Trainer/Json.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

using mpc::trainer::Json;

namespace {

std::string printed(const llvm::json::Value &value) { return llvm::formatv("{0}", value).str(); }

/// "" when `ours` holds the value llvm::json read as `theirs`; else where
/// and how they differ.
std::string difference(const Json &ours, const llvm::json::Value &theirs, const std::string &path) {
  std::string mismatch = path + ": ours " + mpc::trainer::writeJson(ours) + ", llvm::json " + printed(theirs);
  switch (ours.kind()) {
  case Json::Kind::Null:
    return theirs.getAsNull() ? "" : mismatch;
  case Json::Kind::Bool:
    return theirs.getAsBoolean() == std::optional<bool>(ours.asBool()) ? "" : mismatch;
  case Json::Kind::Number: {
    std::optional<double> number = theirs.getAsNumber();
    if (!number || *number != ours.asNumber())
      return mismatch;
    // An integer literal reads as that exact integer, not a rounded double.
    if (ours.isInteger() && theirs.getAsInteger() != std::optional<int64_t>(ours.asInteger()))
      return mismatch;
    return "";
  }
  case Json::Kind::String:
    return theirs.getAsString() == std::optional<llvm::StringRef>(ours.asString()) ? "" : mismatch;
  case Json::Kind::Array: {
    const llvm::json::Array *items = theirs.getAsArray();
    if (!items || items->size() != ours.items().size())
      return mismatch;
    for (size_t i = 0; i < items->size(); ++i)
      if (std::string why = difference(ours.items()[i], (*items)[i], path + "[" + std::to_string(i) + "]");
          !why.empty())
        return why;
    return "";
  }
  case Json::Kind::Object: {
    const llvm::json::Object *members = theirs.getAsObject();
    if (!members || members->size() != ours.members().size())
      return mismatch;
    for (const auto &[name, member] : ours.members()) {
      const llvm::json::Value *other = members->get(name);
      if (!other)
        return mismatch;
      if (std::string why = difference(member, *other, path + "." + name); !why.empty())
        return why;
    }
    return "";
  }
  }
  return mismatch;
}

bool oursAccepts(const std::string &text, Json &value, std::string &error) {
  return mpc::trainer::parseJson(text, value, error);
}

bool llvmAccepts(const std::string &text) {
  llvm::Expected<llvm::json::Value> value = llvm::json::parse(text);
  if (value)
    return true;
  llvm::consumeError(value.takeError());
  return false;
}

/// `depth` nested arrays around nothing.
std::string nested(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

/// Both parsers accept `text` and read the same value.
void expectSameValue(const std::string &text) {
  Json ours;
  std::string error;
  ASSERT_TRUE(oursAccepts(text, ours, error)) << text << ": " << error;
  llvm::Expected<llvm::json::Value> theirs = llvm::json::parse(text);
  ASSERT_TRUE(bool(theirs)) << text << ": " << llvm::toString(theirs.takeError());
  EXPECT_EQ(difference(ours, *theirs, "$"), "") << text;
}

TEST(TrainerJsonVsLLVM, ReadsValidDocumentsAlike) {
  const std::vector<std::string> corpus = {
      // Literals and empty containers.
      "true", "false", "null", "[true,false,null]", "[]", "{}", "[{}]", R"({"":0})",
      // Integers: int64's ends, one past them (a double on our side, uint64
      // or double on llvm's), past uint64.
      "0", "-0", "1", "-1", "10", "123456789012345678", "9223372036854775807",
      "-9223372036854775808", "9223372036854775808", "-9223372036854775809",
      "18446744073709551615", "18446744073709551616", "100000000000000000000000",
      // Fractions and exponents, the extremes of double, overflow to inf and
      // underflow to 0.
      "0.0", "-0.0", "2.5", "0.1", "123.456e-7", "1e2", "1E2", "1e+2", "1E-2", "0e0", "0.5E+10",
      "-1.5e-300", "1.7976931348623157e308", "2.2250738585072014e-308", "4.9e-324", "1e400",
      "-1e400", "1e-400",
      // Escapes, \u in both cases, surrogate pairs, NUL, raw UTF-8 and DEL.
      R"("")", R"("a")", R"("\"\\\/\b\f\n\r\t")", R"("a\/b")", R"("\u0000")", R"("\u0041\u0062")",
      R"("\u00e9\u20AC")", R"("\ud83d\ude00")", R"("\uD834\uDD1E")", "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"",
      "\"\x7f\"",
      // Nesting and whitespace (space, tab, line feed, carriage return).
      "[[[[]]]]", R"({"a":{"b":{"c":[1,{"d":null}]}}})", R"({"a":[],"b":[{}],"c":""})",
      " \t\n\r{ \"a\" : [ 1 , 2 ] , \"b\" : { } } \r\n\t ", nested(200)};
  for (const std::string &text : corpus)
    expectSameValue(text);
}

TEST(TrainerJsonVsLLVM, ReadsWhatLLVMWrites) {
  // Every ASCII character and some beyond, which the writer escapes or not.
  std::string ascii;
  for (int c = 1; c < 128; ++c)
    ascii.push_back(static_cast<char>(c));
  llvm::json::Object manifestLike{
      {"format", 1},
      {"ascii", ascii},
      {"unicode", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 fc.weight/0:1"},
      {"int64", llvm::json::Array{std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), 0, -1}},
      {"uint64", std::numeric_limits<uint64_t>::max()},
      {"doubles", llvm::json::Array{0.1, 1e-300, 1.7976931348623157e308, 4.9e-324, -2.5, 65536.0, 1e-8}},
      {"nested", llvm::json::Object{{"args", llvm::json::Array{llvm::json::Object{
                                                 {"name", "x"}, {"shape", llvm::json::Array{32, 4}},
                                                 {"init", llvm::json::Object{{"offset", 0}, {"bytes", 512}}}}}},
                                    {"empty", llvm::json::Array{}},
                                    {"flag", true},
                                    {"none", nullptr}}}};
  llvm::json::Value value(std::move(manifestLike));
  // Compact, and indented as mpc-compile writes the manifest.
  expectSameValue(llvm::formatv("{0}", value).str());
  expectSameValue(llvm::formatv("{0:2}", value).str());
}

TEST(TrainerJsonVsLLVM, RejectsInvalidDocumentsAlike) {
  const std::vector<std::string> corpus = {
      // Nothing, or a bracket short.
      "", " ", "{", "}", "[", "]", "[1]]", R"({"a":1}})",
      // Truncated documents.
      R"({"a":[1,2)", R"({"a":)", R"({"a")", R"(["a",)", R"("\u)", R"("\)", R"("abc)",
      // Commas, colons and names.
      "[1,]", "[,1]", "[1 2]", R"({"a":1,})", R"({"a" 1})", R"({"a":})", "{1:2}", "{'a':1}", "{a:1}",
      // Numbers JSON does not spell.
      "-", "1e", "1e+", "0x10", "NaN", "Infinity", "-Infinity",
      // Escapes and raw control characters in strings.
      R"("\x")", R"("\u12")", R"("\u12G4")", R"("\U0041")", "\"a\nb\"", "\"a\tb\"",
      std::string("\"a\0b\"", 5),
      // Misspelt literals and text after the value.
      "tru", "nul", "truex", "[tru]", "[1] 2", "{} {}", std::string("[1]\0", 4),
      // Comments, and whitespace JSON does not know (form feed, vertical tab).
      "// c\n1", "/* c */ 1", "\f1", "1\v"};
  for (const std::string &text : corpus) {
    Json value;
    std::string error;
    EXPECT_FALSE(oursAccepts(text, value, error)) << "ours accepts: " << text;
    EXPECT_NE(error.find("malformed JSON at byte"), std::string::npos) << text;
    EXPECT_FALSE(llvmAccepts(text)) << "llvm::json accepts: " << text;
  }
}

TEST(TrainerJsonVsLLVM, DiffersOnlyWhereItMeansTo) {
  struct Case {
    std::string text;
    bool ours, llvm;
    const char *why;
  };
  const std::vector<Case> cases = {
      {R"({"a":1,"a":2})", false, true,
       "a repeated member name: llvm::json keeps the last copy, find() would meet the first; refused"},
      {R"({"a":{"b":1,"b":1}})", false, true, "the same, nested"},
      {R"("\ud800")", false, true, "an unpaired high surrogate: llvm::json reads U+FFFD"},
      {R"("\udc00")", false, true, "an unpaired low surrogate"},
      {R"("\ud800\u0041")", false, true, "a high surrogate followed by no low one"},
      {R"("\udc00\ud800")", false, true, "a surrogate pair in the wrong order"},
      // Numbers RFC 8259 does not spell, which llvm::json reads as strtod
      // would: leading zeros, a '.' without digits on one side, a '+' sign.
      {"01", false, true, "a leading zero"},
      {"00", false, true, "a leading zero"},
      {"-01", false, true, "a leading zero after the sign"},
      {"1.", false, true, "no digits after '.'"},
      {"1.e5", false, true, "no digits after '.'"},
      {".5", false, true, "no digits before '.'"},
      {"+1", false, true, "a '+' sign"},
      {"\"\xff\"", true, false, "a byte that is no UTF-8: kept as it is, not validated"},
      {"\"\xc0\xaf\"", true, false, "an overlong UTF-8 sequence"},
      {"\"\xed\xa0\x80\"", true, false, "an encoded surrogate"},
      {nested(250), false, true, "nested more than 200 deep: refused before the stack runs out"},
  };
  for (const Case &c : cases) {
    Json value;
    std::string error;
    EXPECT_EQ(oursAccepts(c.text, value, error), c.ours) << c.why << ": " << c.text;
    EXPECT_EQ(llvmAccepts(c.text), c.llvm) << c.why << ": " << c.text;
  }
  Json value;
  std::string error;
  EXPECT_FALSE(oursAccepts(R"({"lr":0.1,"lr":0.2})", value, error));
  EXPECT_NE(error.find("the member name \"lr\" appears twice in one object"), std::string::npos) << error;
  // Bytes that are no UTF-8 come through unchanged.
  ASSERT_TRUE(oursAccepts("\"a\xff\"", value, error)) << error;
  EXPECT_EQ(value.asString(), "a\xff");
}

} // namespace
