//===- Json.cpp - a small JSON reader and writer --------------------------===//
#include "mpc/Trainer/Json.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <unordered_set>

namespace mpc::trainer {

Json Json::boolean(bool value) {
  Json json;
  json.kind_ = Kind::Bool;
  json.bool_ = value;
  return json;
}

Json Json::number(double value) {
  Json json;
  json.kind_ = Kind::Number;
  json.number_ = value;
  return json;
}

Json Json::single(float value) {
  Json json = number(value);
  json.isSingle_ = true;
  return json;
}

Json Json::integer(int64_t value) {
  Json json;
  json.kind_ = Kind::Number;
  json.number_ = static_cast<double>(value);
  json.integer_ = value;
  json.isInteger_ = true;
  return json;
}

Json Json::string(std::string value) {
  Json json;
  json.kind_ = Kind::String;
  json.string_ = std::move(value);
  return json;
}

Json Json::array() {
  Json json;
  json.kind_ = Kind::Array;
  return json;
}

Json Json::object() {
  Json json;
  json.kind_ = Kind::Object;
  return json;
}

const Json *Json::find(std::string_view key) const {
  for (const auto &[name, value] : members_)
    if (name == key)
      return &value;
  return nullptr;
}

Json &Json::push(Json value) {
  items_.push_back(std::move(value));
  return items_.back();
}

Json &Json::set(std::string key, Json value) {
  members_.emplace_back(std::move(key), std::move(value));
  return members_.back().second;
}

class JsonParser {
public:
  JsonParser(std::string_view text, std::string &error) : text_(text), error_(error) {}

  bool parseDocument(Json &value) {
    if (!parseValue(value, 0))
      return false;
    skipSpace();
    if (pos_ != text_.size())
      return fail("unexpected text after the JSON value");
    return true;
  }

private:
  static constexpr int kMaxDepth = 200;

  bool fail(const std::string &message) {
    error_ = "malformed JSON at byte " + std::to_string(pos_) + ": " + message;
    return false;
  }

  void skipSpace() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }

  bool consume(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word)
      return false;
    pos_ += word.size();
    return true;
  }

  bool parseValue(Json &value, int depth) {
    if (depth > kMaxDepth)
      return fail("nested more than 200 deep");
    skipSpace();
    if (pos_ >= text_.size())
      return fail("unexpected end of input");
    char c = text_[pos_];
    if (c == '{')
      return parseObject(value, depth);
    if (c == '[')
      return parseArray(value, depth);
    if (c == '"') {
      value.kind_ = Json::Kind::String;
      return parseString(value.string_);
    }
    if (consume("true")) {
      value = Json::boolean(true);
      return true;
    }
    if (consume("false")) {
      value = Json::boolean(false);
      return true;
    }
    if (consume("null")) {
      value = Json();
      return true;
    }
    if (c == '-' || (c >= '0' && c <= '9'))
      return parseNumber(value);
    return fail(std::string("unexpected character '") + c + "'");
  }

  bool parseObject(Json &value, int depth) {
    value = Json::object();
    ++pos_;
    skipSpace();
    if (consume("}"))
      return true;
    // A repeated name would be read as whichever copy find() meets first
    // (llvm::json keeps the last): refused, as neither reading is safe.
    std::unordered_set<std::string> names;
    while (true) {
      skipSpace();
      std::string key;
      if (pos_ >= text_.size() || text_[pos_] != '"')
        return fail("expected a member name in quotes");
      if (!parseString(key))
        return false;
      if (!names.insert(key).second)
        return fail("the member name \"" + key + "\" appears twice in one object");
      skipSpace();
      if (!consume(":"))
        return fail("expected ':' after a member name");
      Json member;
      if (!parseValue(member, depth + 1))
        return false;
      value.members_.emplace_back(std::move(key), std::move(member));
      skipSpace();
      if (consume("}"))
        return true;
      if (!consume(","))
        return fail("expected ',' or '}' in an object");
    }
  }

  bool parseArray(Json &value, int depth) {
    value = Json::array();
    ++pos_;
    skipSpace();
    if (consume("]"))
      return true;
    while (true) {
      Json item;
      if (!parseValue(item, depth + 1))
        return false;
      value.items_.push_back(std::move(item));
      skipSpace();
      if (consume("]"))
        return true;
      if (!consume(","))
        return fail("expected ',' or ']' in an array");
    }
  }

  bool parseHex4(uint32_t &code) {
    if (pos_ + 4 > text_.size())
      return fail("truncated \\u escape");
    code = 0;
    for (int i = 0; i < 4; ++i) {
      char h = text_[pos_++];
      code <<= 4;
      if (h >= '0' && h <= '9') code |= h - '0';
      else if (h >= 'a' && h <= 'f') code |= h - 'a' + 10;
      else if (h >= 'A' && h <= 'F') code |= h - 'A' + 10;
      else return fail("bad hex digit in a \\u escape");
    }
    return true;
  }

  static void appendUtf8(std::string &out, uint32_t code) {
    if (code < 0x80) {
      out += static_cast<char>(code);
    } else if (code < 0x800) {
      out += static_cast<char>(0xC0 | (code >> 6));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
      out += static_cast<char>(0xE0 | (code >> 12));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (code >> 18));
      out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    }
  }

  bool parseEscape(std::string &out) {
    if (pos_ >= text_.size())
      return fail("unterminated string");
    char e = text_[pos_++];
    switch (e) {
    case '"': out += '"'; return true;
    case '\\': out += '\\'; return true;
    case '/': out += '/'; return true;
    case 'b': out += '\b'; return true;
    case 'f': out += '\f'; return true;
    case 'n': out += '\n'; return true;
    case 'r': out += '\r'; return true;
    case 't': out += '\t'; return true;
    case 'u': {
      uint32_t code;
      if (!parseHex4(code))
        return false;
      if (code >= 0xD800 && code < 0xDC00) {
        uint32_t low;
        if (!consume("\\u") || !parseHex4(low) || low < 0xDC00 || low >= 0xE000)
          return fail("unpaired surrogate in a \\u escape");
        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
      } else if (code >= 0xDC00 && code < 0xE000) {
        return fail("unpaired surrogate in a \\u escape");
      }
      appendUtf8(out, code);
      return true;
    }
    default:
      return fail(std::string("unknown escape '\\") + e + "'");
    }
  }

  bool parseString(std::string &out) {
    ++pos_; // the opening quote
    while (pos_ < text_.size()) {
      char c = text_[pos_++];
      if (c == '"')
        return true;
      if (static_cast<unsigned char>(c) < 0x20)
        return fail("control character in a string");
      if (c != '\\')
        out += c;
      else if (!parseEscape(out))
        return false;
    }
    return fail("unterminated string");
  }

  bool parseNumber(Json &value) {
    size_t start = pos_;
    bool integral = true;
    if (text_[pos_] == '-')
      ++pos_;
    auto digits = [&] {
      size_t first = pos_;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9')
        ++pos_;
      return pos_ > first;
    };
    if (pos_ < text_.size() && text_[pos_] == '0')
      ++pos_;
    else if (!digits())
      return fail("expected digits in a number");
    if (pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      integral = false;
      if (!digits())
        return fail("expected digits after '.'");
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      integral = false;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-'))
        ++pos_;
      if (!digits())
        return fail("expected digits in an exponent");
    }
    std::string literal(text_.substr(start, pos_ - start));
    value = Json::number(std::strtod(literal.c_str(), nullptr));
    if (integral) {
      errno = 0;
      long long parsed = std::strtoll(literal.c_str(), nullptr, 10);
      if (errno == 0) {
        value.integer_ = parsed;
        value.isInteger_ = true;
      }
    }
    return true;
  }

  std::string_view text_;
  std::string &error_;
  size_t pos_ = 0;
};

bool parseJson(std::string_view text, Json &value, std::string &error) {
  return JsonParser(text, error).parseDocument(value);
}

namespace {
void writeString(std::string &out, const std::string &text) {
  out += '"';
  for (char c : text) {
    switch (c) {
    case '"': out += "\\\""; break;
    case '\\': out += "\\\\"; break;
    case '\n': out += "\\n"; break;
    case '\r': out += "\\r"; break;
    case '\t': out += "\\t"; break;
    default:
      if (static_cast<unsigned char>(c) < 0x20) {
        char escape[8];
        std::snprintf(escape, sizeof(escape), "\\u%04x", static_cast<unsigned>(c));
        out += escape;
      } else {
        out += c;
      }
    }
  }
  out += '"';
}

void writeNumber(std::string &out, double value, bool single) {
  if (!std::isfinite(value)) {
    out += "null";
    return;
  }
  char text[40];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(text, sizeof(text), "%.*g", precision, value);
    if (single ? std::strtof(text, nullptr) == static_cast<float>(value) : std::strtod(text, nullptr) == value)
      break;
  }
  out += text;
}

void writeValue(std::string &out, const Json &value) {
  switch (value.kind()) {
  case Json::Kind::Null: out += "null"; return;
  case Json::Kind::Bool: out += value.asBool() ? "true" : "false"; return;
  case Json::Kind::Number:
    if (value.isInteger())
      out += std::to_string(value.asInteger());
    else
      writeNumber(out, value.asNumber(), value.isSingle());
    return;
  case Json::Kind::String: writeString(out, value.asString()); return;
  case Json::Kind::Array: {
    out += '[';
    bool first = true;
    for (const Json &item : value.items()) {
      if (!first)
        out += ',';
      first = false;
      writeValue(out, item);
    }
    out += ']';
    return;
  }
  case Json::Kind::Object: {
    out += '{';
    bool first = true;
    for (const auto &[key, member] : value.members()) {
      if (!first)
        out += ',';
      first = false;
      writeString(out, key);
      out += ':';
      writeValue(out, member);
    }
    out += '}';
    return;
  }
  }
}
} // namespace

std::string writeJson(const Json &value) {
  std::string out;
  writeValue(out, value);
  return out;
}

} // namespace mpc::trainer
