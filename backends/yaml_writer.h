// A small block-style YAML document builder with deterministic output and
// safe scalar quoting, shared by the manifest backends.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace netpolc::backends {

class YamlNode {
 public:
  enum class Kind : uint8_t { kString, kNumber, kMap, kSeq };

  static YamlNode String(std::string_view s);
  static YamlNode Number(int64_t n);
  static YamlNode Map() { return YamlNode(Kind::kMap); }
  static YamlNode Seq() { return YamlNode(Kind::kSeq); }

  // Map: appends a key (keys keep insertion order). Returns the value node.
  YamlNode& Add(std::string_view key, YamlNode value);
  // Sequence: appends an item. Returns it.
  YamlNode& Push(YamlNode value);

  Kind kind() const { return kind_; }
  bool empty() const { return map_.empty() && seq_.empty(); }

  // Appends the node as a document body (no leading "---").
  void Write(std::string& out) const;

 private:
  explicit YamlNode(Kind kind) : kind_(kind) {}
  void WriteValue(std::string& out, int indent) const;
  void WriteMapEntries(std::string& out, int indent, bool first_inline) const;
  void WriteSeqItems(std::string& out, int indent) const;

  Kind kind_;
  std::string scalar_;
  std::vector<std::pair<std::string, YamlNode>> map_;
  std::vector<YamlNode> seq_;
};

// The start of a policy document: apiVersion, kind and metadata (name,
// namespace and the label app.kubernetes.io/managed-by: netpolc), to which
// the backend adds its spec.
YamlNode PolicyDocument(std::string_view api_version, std::string_view kind,
                        std::string_view name, std::string_view ns);

// The scalar as YAML: plain when unambiguous, else double-quoted.
std::string YamlScalar(std::string_view s);

// Appends documents 0..n-1 to `out` in order, each rendered by render(i, text)
// into its own empty `text`. The documents are rendered in parallel (see
// compiler/parallel.h), so `render` must only read shared state; the output
// is the same for any number of threads. `later` is how many documents later
// calls will append (room for them is reserved with these).
void AppendDocuments(size_t n, std::string& out,
                     const std::function<void(size_t, std::string&)>& render, size_t later = 0);

}  // namespace netpolc::backends
