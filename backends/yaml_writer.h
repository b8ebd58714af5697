// A small block-style YAML writer with deterministic output and safe scalar
// quoting, shared by the manifest backends.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace netpolc::backends {

// Writes a block-style YAML document straight into a string, in order:
// `key: value`, a nested map's or sequence's entries two columns in, a
// sequence item's map starting after its `- `. A container opened with
// Map, Seq, ItemMap or ItemSeq is closed with End; one closed without
// entries is written `{}` or `[]`. Keys and strings are quoted as YamlScalar
// quotes them.
class YamlEmitter {
 public:
  // Starts a document body (a map) at the end of `out`.
  explicit YamlEmitter(std::string& out);
  YamlEmitter(const YamlEmitter&) = delete;
  YamlEmitter& operator=(const YamlEmitter&) = delete;

  // In a map: an entry with a scalar value, or opening a container.
  void String(std::string_view key, std::string_view value);
  void Number(std::string_view key, int64_t value);
  void Map(std::string_view key);
  void Seq(std::string_view key);
  // In a sequence: an item.
  void ItemString(std::string_view value);
  void ItemNumber(int64_t value);
  void ItemMap();
  void ItemSeq();
  // Closes the innermost open container.
  void End();
  // Closes every container and the document.
  void Finish();

 private:
  struct Frame {
    bool map;
    bool item;           // opened as a sequence item
    bool empty = true;   // no entry written yet
    bool inline_next = false;  // the next entry follows the item's "- "
    int indent;          // of the entries
  };
  // Before an entry of the innermost container: ends its opening line.
  void Touch();
  void Key(std::string_view key);
  void Dash();

  std::string& out_;
  std::vector<Frame> frames_;
};

// A Kubernetes label-selector requirement as an item of matchExpressions:
// key, operator and, unless null, values.
void SelectorRequirement(YamlEmitter& out, std::string_view key, std::string_view op,
                         const std::vector<std::string>* values);

// Appends `s` as YamlScalar(s) gives it.
void AppendYamlScalar(std::string& out, std::string_view s);

// The start of a policy document: apiVersion, kind and metadata (name,
// namespace and the label app.kubernetes.io/managed-by: netpolc), written
// into an emitter whose document is empty; the document's map stays open
// for the backend's spec.
void PolicyDocument(YamlEmitter& out, std::string_view api_version, std::string_view kind,
                    std::string_view name, std::string_view ns);

// The scalar as YAML: plain when unambiguous, else double-quoted.
std::string YamlScalar(std::string_view s);

// While one lives on a thread, AppendDocuments on that thread hands the
// whole of `buffer` to `flush` (which empties it) each time it has appended
// a batch of documents to it: a command that writes its output as it is made
// passes its output buffer, so that a backend rendering many documents into
// it does not hold them all. Only for a backend that never changes text it
// has appended.
class OutputFlush {
 public:
  OutputFlush(std::string& buffer, std::function<void(std::string&)> flush);
  OutputFlush(const OutputFlush&) = delete;
  OutputFlush& operator=(const OutputFlush&) = delete;
  ~OutputFlush();

  // Flushes `out` if it is the buffer of the thread's OutputFlush.
  static void After(std::string& out);

 private:
  std::string& buffer_;
  std::function<void(std::string&)> flush_;
  OutputFlush* previous_;
};

// Appends documents 0..n-1 to `out` in order, each rendered by render(i, text)
// into its own empty `text`. The documents are rendered in parallel (see
// compiler/parallel.h), so `render` must only read shared state; the output
// is the same for any number of threads. `later` is how many documents later
// calls will append (room for them is reserved with these).
void AppendDocuments(size_t n, std::string& out,
                     const std::function<void(size_t, std::string&)>& render, size_t later = 0);

}  // namespace netpolc::backends
