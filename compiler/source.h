// Source files and positions within them.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace netpolc {

// A position in a source file: 1-based line and column (columns count
// Unicode code points). file == kNoFile for positions that are not in a file
// (command-line arguments, synthesised rules).
struct SourceLoc {
  static constexpr uint32_t kNoFile = UINT32_MAX;
  uint32_t file = kNoFile;
  uint32_t line = 0;
  uint32_t column = 0;
  uint32_t length = 1;  // code points underlined by the caret

  bool valid() const { return file != kNoFile; }
  friend bool operator==(const SourceLoc&, const SourceLoc&) = default;
  friend auto operator<=>(const SourceLoc&, const SourceLoc&) = default;
};

// Lines end at LF, CRLF or a lone CR, wherever positions are computed.
// Whether text[i] ends a line (the LF of a CRLF does; its CR does not).
inline bool IsLineEnd(std::string_view text, size_t i) {
  return text[i] == '\n' || (text[i] == '\r' && (i + 1 == text.size() || text[i + 1] != '\n'));
}

// The number of line ends in `text`.
inline size_t CountLineEnds(std::string_view text) {
  size_t n = 0;
  for (size_t i = 0; i < text.size(); ++i) n += IsLineEnd(text, i) ? 1 : 0;
  return n;
}

// `text` with every lone CR turned into LF (same length, same positions),
// for readers that know only LF and CRLF (yaml-cpp).
std::string LoneCrToLf(std::string text);

// Reads the text of a file added unread: nullopt when it cannot be read or
// is no longer the text that was compiled.
using TextReader = std::function<std::optional<std::string>()>;

struct SourceFile {
  std::string path;  // as the user named it; shown in diagnostics
  std::string text;  // UTF-8 (empty while a file added unread is not read)
  std::vector<uint32_t> line_starts;  // byte offset of each line

  SourceFile(std::string path, std::string text);
  // The text of a 1-based line, without its terminator. A file added unread
  // is read the first time a line is asked for (diagnostics quote lines);
  // if that fails, every line is empty.
  std::string_view Line(uint32_t line) const;
  // Whether the text of a file added unread was asked for and could not be
  // read as it was compiled.
  bool unreadable() const;

 private:
  friend class SourceManager;
  struct Unread {
    TextReader read;
    std::once_flag once;
    bool failed = false;
  };
  void SetText(std::string text);
  void ReadIfUnread() const;
  std::unique_ptr<Unread> unread_;
};

// Owns every file of one compilation; SourceLoc::file indexes into it.
class SourceManager {
 public:
  uint32_t Add(std::string path, std::string text);
  // A file whose text is not held (a build that streams a large file,
  // compile_pieces.h): SetReader gives what reads it if a diagnostic quotes
  // it (without one, its lines read as empty). Only its lines
  // (SourceFile::Line) are to be read, not its `text`.
  uint32_t AddUnread(std::string path);
  void SetReader(uint32_t id, TextReader read);
  // Gives the file `id` its text (a file added unread that is then read
  // whole after all).
  void SetText(uint32_t id, std::string text);
  const SourceFile& file(uint32_t id) const { return files_.at(id); }
  size_t size() const { return files_.size(); }

 private:
  std::vector<SourceFile> files_;
};

}  // namespace netpolc
