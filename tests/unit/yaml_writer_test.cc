// YamlEmitter writes the block layout spelled out below (the layout the
// backends wrote through a tree of nodes before it), and quotes what could be
// misread.
#include <catch2/catch.hpp>

#include <cctype>
#include <random>
#include <string_view>
#include <string>
#include <vector>

#include "backends/yaml_writer.h"

namespace netpolc::backends {
namespace {

// A document as the emitter and the reference layout are given it.
struct Value {
  enum class Kind { kString, kNumber, kMap, kSeq } kind = Kind::kMap;
  std::string text;
  int64_t number = 0;
  std::vector<std::pair<std::string, Value>> entries;  // kMap
  std::vector<Value> items;                            // kSeq
};

const char* const kTexts[] = {"kafka",  "",      "true", "8080", "a b",   "app.kubernetes.io/name",
                              "No",     "-x",    "\"q\"", "tab\t", "line\nbreak", "0.0.0.0/0",
                              "null",   "~",     "é",    "x:y",  "#c",    "long-value-with-dashes"};

Value Random(std::mt19937& rng, int depth) {
  Value v;
  int pick = depth >= 4 ? static_cast<int>(rng() % 2) : static_cast<int>(rng() % 4);
  auto text = [&] { return std::string(kTexts[rng() % std::size(kTexts)]); };
  switch (pick) {
    case 0:
      v.kind = Value::Kind::kString;
      v.text = text();
      break;
    case 1:
      v.kind = Value::Kind::kNumber;
      v.number = static_cast<int64_t>(rng() % 70000) - 100;
      break;
    case 2: {
      v.kind = Value::Kind::kMap;
      size_t n = rng() % 4;
      for (size_t i = 0; i < n; ++i) v.entries.emplace_back(text(), Random(rng, depth + 1));
      break;
    }
    default: {
      v.kind = Value::Kind::kSeq;
      size_t n = rng() % 4;
      for (size_t i = 0; i < n; ++i) v.items.push_back(Random(rng, depth + 1));
      break;
    }
  }
  return v;
}

// The layout, spelled out: `key: value`; a map's or sequence's entries two
// columns in, on the lines after its key (`key:`) or dash (`-`), except that
// the first entry of a map in a sequence follows its `- `; an empty map or
// sequence written `{}` or `[]` after its key or dash; scalars as YamlScalar
// writes them.
void Reference(const Value& v, int indent, std::string& out);

// `v` after a key or a dash (written, with no space after it), at `indent`
// for its entries.
void ReferenceAfter(const Value& v, int indent, bool after_dash, std::string& out) {
  switch (v.kind) {
    case Value::Kind::kString:
      out += " " + YamlScalar(v.text) + "\n";
      return;
    case Value::Kind::kNumber:
      out += " " + std::to_string(v.number) + "\n";
      return;
    case Value::Kind::kMap:
      if (v.entries.empty()) {
        out += " {}\n";
      } else if (after_dash) {
        // The first entry right after "- ", the others at `indent`.
        out += " ";
        std::string rest;
        Reference(v, indent, rest);
        out += rest.substr(static_cast<size_t>(indent));
      } else {
        out += "\n";
        Reference(v, indent, out);
      }
      return;
    case Value::Kind::kSeq:
      if (v.items.empty()) {
        out += " []\n";
      } else {
        out += "\n";
        Reference(v, indent, out);
      }
      return;
  }
}

// The entries of a map or the items of a sequence, at `indent`.
void Reference(const Value& v, int indent, std::string& out) {
  const std::string pad(static_cast<size_t>(indent), ' ');
  if (v.kind == Value::Kind::kMap) {
    for (const auto& [key, value] : v.entries) {
      out += pad + YamlScalar(key) + ":";
      ReferenceAfter(value, indent + 2, false, out);
    }
  } else {
    for (const Value& item : v.items) {
      out += pad + "-";
      ReferenceAfter(item, indent + 2, true, out);
    }
  }
}

void Emit(YamlEmitter& out, const Value& v, const std::string* key) {
  switch (v.kind) {
    case Value::Kind::kString:
      key ? out.String(*key, v.text) : out.ItemString(v.text);
      return;
    case Value::Kind::kNumber:
      key ? out.Number(*key, v.number) : out.ItemNumber(v.number);
      return;
    case Value::Kind::kMap:
      key ? out.Map(*key) : out.ItemMap();
      for (const auto& [k, value] : v.entries) Emit(out, value, &k);
      out.End();
      return;
    case Value::Kind::kSeq:
      key ? out.Seq(*key) : out.ItemSeq();
      for (const Value& item : v.items) Emit(out, item, nullptr);
      out.End();
      return;
  }
}

TEST_CASE("YamlEmitter writes the block layout") {
  std::mt19937 rng(7);
  for (int round = 0; round < 3000; ++round) {
    // A document: a map, whose entries are random values.
    Value doc;
    size_t n = rng() % 5;
    for (size_t i = 0; i < n; ++i) doc.entries.emplace_back(kTexts[rng() % 4], Random(rng, 1));
    std::string expected;
    Reference(doc, 0, expected);
    if (doc.entries.empty()) expected = "{}\n";
    std::string actual = "prefix\n";
    YamlEmitter out(actual);
    for (const auto& [key, value] : doc.entries) Emit(out, value, &key);
    out.Finish();
    INFO("round " << round);
    REQUIRE(actual == "prefix\n" + expected);
  }
}

// What YamlScalar leaves plain, spelled out: no quotes when the scalar
// starts with a letter, digit, '/' or '_', has only letters, digits and
// ". _ - /", and reads neither as a boolean or null word (any case) nor as a
// number (digits with the characters of floats, hex, octal, .inf, .nan,
// sexagesimal).
bool Plain(const std::string& s) {
  if (s.empty()) return false;
  auto alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  if (!alnum(s[0]) && s[0] != '/' && s[0] != '_') return false;
  for (char c : s) {
    if (!alnum(c) && c != '.' && c != '_' && c != '-' && c != '/') return false;
  }
  std::string lower;
  for (char c : s) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* word : {"y", "n", "yes", "no", "true", "false", "on", "off", "null"}) {
    if (lower == word) return false;
  }
  if (std::isdigit(static_cast<unsigned char>(s[0]))) {
    bool numeric = true;
    for (char c : lower) {
      numeric = numeric && (std::isxdigit(static_cast<unsigned char>(c)) ||
                            std::string_view("._+-:xoin").find(c) != std::string_view::npos);
    }
    if (numeric) return false;
  }
  return true;
}

TEST_CASE("YamlScalar quotes exactly what could be misread") {
  const std::string alphabet = "aNyYeEoOfF09x._-/+:~ \"#";
  std::vector<std::string> inputs = {"", "true", "False", "NULL", "off", "On", "yes", "1e3",
                                     "0x1F", ".inf", "1:20", "12ab", "1g", "app.io/name"};
  for (char a : alphabet) {
    inputs.push_back(std::string(1, a));
    for (char b : alphabet) {
      inputs.push_back(std::string{a, b});
      for (char c : alphabet) inputs.push_back(std::string{a, b, c});
    }
  }
  for (const std::string& s : inputs) {
    INFO("scalar '" << s << "'");
    CHECK((YamlScalar(s) == s) == Plain(s));
  }
}

TEST_CASE("PolicyDocument starts a policy document") {
  std::string actual;
  YamlEmitter out(actual);
  PolicyDocument(out, "v1", "Kind", "name: x", "8080");
  out.Map("spec");
  out.Finish();
  CHECK(actual ==
        "apiVersion: v1\n"
        "kind: Kind\n"
        "metadata:\n"
        "  name: \"name: x\"\n"
        "  namespace: \"8080\"\n"
        "  labels:\n"
        "    app.kubernetes.io/managed-by: netpolc\n"
        "spec: {}\n");
}

}  // namespace
}  // namespace netpolc::backends
