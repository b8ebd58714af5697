#include "backends/yaml_writer.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "compiler/parallel.h"

namespace netpolc::backends {
namespace {

// Character classes of plain scalars, by byte.
struct ScalarTables {
  bool first[256] = {};    // may start a plain scalar
  bool plain[256] = {};    // may appear in one
  bool numeric[256] = {};  // may appear in something a reader could take for a number
  constexpr ScalarTables() {
    for (int c = 0; c < 256; ++c) {
      bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      first[c] = alnum || c == '/' || c == '_';
      plain[c] = alnum || c == '.' || c == '_' || c == '-' || c == '/';
      // Ints, floats, hex, octal, .inf, .nan, sexagesimal.
      numeric[c] = (c >= '0' && c <= '9') || c == '.' || c == '+' || c == '-' || c == '_' ||
                   c == 'e' || c == 'E' || c == 'x' || c == 'X' || c == 'o' || c == 'O' ||
                   (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == 'i' ||
                   c == 'n' || c == 'I' || c == 'N';
    }
  }
};
constexpr ScalarTables kScalar;

// Words that YAML 1.1 or 1.2 readers turn into booleans or null, in any
// case (none longer than five characters).
bool IsSpecialWord(std::string_view s) {
  static constexpr std::string_view kWords[] = {
      "y", "n", "yes", "no", "true", "false", "on", "off", "null", "~"};
  if (s.empty() || s.size() > 5) return false;
  // Each word starts with one of these.
  if (std::string_view("yYnNtTfFoO~").find(s.front()) == std::string_view::npos) return false;
  for (std::string_view w : kWords) {
    if (s.size() != w.size()) continue;
    bool same = true;
    for (size_t i = 0; i < s.size() && same; ++i) {
      char c = s[i];
      same = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c) == w[i];
    }
    if (same) return true;
  }
  return false;
}

// Whether `s` can be written without quotes: it starts and goes on with
// characters no reader gives a meaning, and reads neither as a boolean or
// null nor as a number.
bool PlainSafe(std::string_view s) {
  if (s.empty()) return false;
  const auto first = static_cast<unsigned char>(s.front());
  if (!kScalar.first[first]) return false;
  bool numeric = first >= '0' && first <= '9';  // '+', '-' and '.' cannot start one
  for (char c : s) {
    const auto byte = static_cast<unsigned char>(c);
    if (!kScalar.plain[byte]) return false;
    numeric = numeric && kScalar.numeric[byte];
  }
  return !numeric && !IsSpecialWord(s);
}

}  // namespace

void PolicyDocument(YamlEmitter& out, std::string_view api_version, std::string_view kind,
                    std::string_view name, std::string_view ns) {
  out.String("apiVersion", api_version);
  out.String("kind", kind);
  out.Map("metadata");
  out.String("name", name);
  out.String("namespace", ns);
  out.Map("labels");
  out.String("app.kubernetes.io/managed-by", "netpolc");
  out.End();
  out.End();
}

void SelectorRequirement(YamlEmitter& out, std::string_view key, std::string_view op,
                         const std::vector<std::string>* values) {
  out.ItemMap();
  out.String("key", key);
  out.String("operator", op);
  if (values != nullptr) {
    out.Seq("values");
    for (const std::string& v : *values) out.ItemString(v);
    out.End();
  }
  out.End();
}

std::string YamlScalar(std::string_view s) {
  std::string out;
  AppendYamlScalar(out, s);
  return out;
}

void AppendYamlScalar(std::string& out, std::string_view s) {
  if (PlainSafe(s)) {
    out += s;
    return;
  }
  out.reserve(out.size() + s.size() + 2);
  out += '"';
  // Runs of characters that stand for themselves go in at once.
  auto plain = [](unsigned char c) { return c >= 0x20 && c != 0x7F && c != '"' && c != '\\'; };
  for (size_t i = 0; i < s.size();) {
    size_t run = i;
    while (run < s.size() && plain(static_cast<unsigned char>(s[run]))) ++run;
    out.append(s.data() + i, run - i);
    if (run == s.size()) break;
    const unsigned char c = static_cast<unsigned char>(s[run]);
    i = run + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default: {
        char buffer[8];  // a control character
        std::snprintf(buffer, sizeof buffer, "\\x%02X", c);
        out += buffer;
      }
    }
  }
  out += '"';
}

YamlEmitter::YamlEmitter(std::string& out) : out_(out) {
  frames_.reserve(16);
  frames_.push_back(Frame{true, false, true, false, 0});
}

void YamlEmitter::Touch() {
  Frame& frame = frames_.back();
  if (!frame.empty) return;
  frame.empty = false;
  if (frames_.size() == 1) return;  // the document: no opening line
  if (frame.item && frame.map) {
    out_ += ' ';  // "- " and the first entry
    frame.inline_next = true;
  } else {
    out_ += '\n';
  }
}

void YamlEmitter::Key(std::string_view key) {
  Touch();
  Frame& frame = frames_.back();
  if (frame.inline_next) {
    frame.inline_next = false;
  } else {
    out_.append(static_cast<size_t>(frame.indent), ' ');
  }
  AppendYamlScalar(out_, key);
  out_ += ':';
}

void YamlEmitter::Dash() {
  Touch();
  out_.append(static_cast<size_t>(frames_.back().indent), ' ');
  out_ += '-';
}

void YamlEmitter::String(std::string_view key, std::string_view value) {
  Key(key);
  out_ += ' ';
  AppendYamlScalar(out_, value);
  out_ += '\n';
}

void YamlEmitter::Number(std::string_view key, int64_t value) {
  Key(key);
  out_ += ' ';
  out_ += std::to_string(value);
  out_ += '\n';
}

void YamlEmitter::Map(std::string_view key) {
  Key(key);
  frames_.push_back(Frame{true, false, true, false, frames_.back().indent + 2});
}

void YamlEmitter::Seq(std::string_view key) {
  Key(key);
  frames_.push_back(Frame{false, false, true, false, frames_.back().indent + 2});
}

void YamlEmitter::ItemString(std::string_view value) {
  Dash();
  out_ += ' ';
  AppendYamlScalar(out_, value);
  out_ += '\n';
}

void YamlEmitter::ItemNumber(int64_t value) {
  Dash();
  out_ += ' ';
  out_ += std::to_string(value);
  out_ += '\n';
}

void YamlEmitter::ItemMap() {
  Dash();
  frames_.push_back(Frame{true, true, true, false, frames_.back().indent + 2});
}

void YamlEmitter::ItemSeq() {
  Dash();
  frames_.push_back(Frame{false, true, true, false, frames_.back().indent + 2});
}

void YamlEmitter::End() {
  if (frames_.size() <= 1) return;  // the document ends with Finish
  const Frame frame = frames_.back();
  frames_.pop_back();
  if (frame.empty) out_ += frame.map ? " {}\n" : " []\n";
}

void YamlEmitter::Finish() {
  while (frames_.size() > 1) End();
  if (frames_.back().empty) out_ += "{}\n";
  frames_.back().empty = false;
}

namespace {
thread_local OutputFlush* t_output_flush = nullptr;
}  // namespace

OutputFlush::OutputFlush(std::string& buffer, std::function<void(std::string&)> flush)
    : buffer_(buffer), flush_(std::move(flush)), previous_(t_output_flush) {
  t_output_flush = this;
}

OutputFlush::~OutputFlush() { t_output_flush = previous_; }

void OutputFlush::After(std::string& out) {
  OutputFlush* flush = t_output_flush;
  if (flush != nullptr && &flush->buffer_ == &out) flush->flush_(out);
}

void AppendDocuments(size_t n, std::string& out,
                     const std::function<void(size_t, std::string&)>& render, size_t later) {
  // Batches bound the memory held by documents rendered but not yet appended.
  const size_t batch = 64 * ThreadCount();
  std::vector<std::string> texts;
  for (size_t first = 0; first < n; first += batch) {
    size_t count = std::min(batch, n - first);
    texts.assign(count, std::string());
    ParallelFor(count, [&](size_t i) { render(first + i, texts[i]); });
    if (first == 0 && count < n + later) {
      // Room for the rest, estimated from the first batch with a margin, so
      // that `out` is not copied as it grows: pages reserved but never
      // written cost no memory.
      size_t bytes = 0;
      for (const std::string& text : texts) bytes += text.size();
      size_t wanted = out.size() + bytes + bytes / count * (n + later - count) * 5 / 4;
      if (wanted > out.capacity()) out.reserve(wanted);
    }
    for (const std::string& text : texts) out += text;
    OutputFlush::After(out);
  }
}

}  // namespace netpolc::backends
