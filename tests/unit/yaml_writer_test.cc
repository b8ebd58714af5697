// YamlEmitter writes what YamlNode::Write writes for the same document.
#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

#include "backends/yaml_writer.h"

namespace netpolc::backends {
namespace {

// A document as both writers are given it.
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

YamlNode Tree(const Value& v) {
  switch (v.kind) {
    case Value::Kind::kString:
      return YamlNode::String(v.text);
    case Value::Kind::kNumber:
      return YamlNode::Number(v.number);
    case Value::Kind::kMap: {
      YamlNode node = YamlNode::Map();
      for (const auto& [key, value] : v.entries) node.Add(key, Tree(value));
      return node;
    }
    case Value::Kind::kSeq: {
      YamlNode node = YamlNode::Seq();
      for (const Value& item : v.items) node.Push(Tree(item));
      return node;
    }
  }
  return YamlNode::Map();
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

TEST_CASE("YamlEmitter writes what YamlNode::Write writes") {
  std::mt19937 rng(7);
  for (int round = 0; round < 3000; ++round) {
    // A document: a map, whose entries are random values.
    Value doc;
    size_t n = rng() % 5;
    for (size_t i = 0; i < n; ++i) doc.entries.emplace_back(kTexts[rng() % 4], Random(rng, 1));
    std::string expected;
    Tree(doc).Write(expected);
    std::string actual = "prefix\n";
    YamlEmitter out(actual);
    for (const auto& [key, value] : doc.entries) Emit(out, value, &key);
    out.Finish();
    INFO("round " << round);
    REQUIRE(actual == "prefix\n" + expected);
  }
}

TEST_CASE("YamlEmitter's policy document is PolicyDocument's") {
  std::string expected;
  YamlNode doc = PolicyDocument("v1", "Kind", "name: x", "8080");
  doc.Add("spec", YamlNode::Map());
  doc.Write(expected);
  std::string actual;
  YamlEmitter out(actual);
  PolicyDocument(out, "v1", "Kind", "name: x", "8080");
  out.Map("spec");
  out.Finish();
  CHECK(actual == expected);
}

}  // namespace
}  // namespace netpolc::backends
