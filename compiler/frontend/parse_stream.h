// An ANTLR character stream over UTF-8 text, read in place: ANTLR's own
// ANTLRInputStream copies the text into UTF-32 (four bytes per character).
// Indices count code points, as ANTLRInputStream's do, so token positions and
// lengths are the same. A lone CR reads as LF (lines end at LF, CRLF or a
// lone CR); getText gives the bytes as they are. Part of the parse library:
// only the parser sees ANTLR.
#pragma once

#include <antlr4-runtime.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace netpolc {

class Utf8CharStream : public antlr4::CharStream {
 public:
  // `text` must be valid UTF-8 and outlive the stream.
  explicit Utf8CharStream(std::string_view text);

  void consume() override;
  size_t LA(ssize_t i) override;
  ssize_t mark() override { return -1; }
  void release(ssize_t) override {}
  size_t index() override { return index_; }
  void seek(size_t index) override;
  size_t size() override { return size_; }
  std::string getSourceName() const override { return UNKNOWN_SOURCE_NAME; }
  std::string getText(const antlr4::misc::Interval& interval) override;
  std::string toString() const override { return std::string(text_); }

  // For a reader that walks ASCII text itself (CachedLexerSimulator): in
  // ASCII text, an index is a byte offset; SeekAscii moves to `index`
  // (<= size()) without the checks of seek.
  bool ascii() const { return ascii_; }
  std::string_view text() const { return text_; }
  void SeekAscii(size_t index) { index_ = offset_ = index; }

 private:
  // The byte offset of code point `index` (index <= size_).
  size_t OffsetOf(size_t index) const;
  // The code point at byte offset `offset` (< text_.size()).
  uint32_t Decode(size_t offset) const;

  static constexpr size_t kStride = 64;  // code points between checkpoints

  std::string_view text_;
  bool ascii_ = true;
  size_t size_ = 0;     // code points
  size_t index_ = 0;    // current code point
  size_t offset_ = 0;   // its byte offset
  // Non-ASCII text only: the byte offset of every kStride-th code point.
  std::vector<uint32_t> checkpoints_;
};

}  // namespace netpolc
