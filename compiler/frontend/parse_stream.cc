#include "compiler/frontend/parse_stream.h"

namespace netpolc {
namespace {

size_t SequenceLength(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  return 4;
}

}  // namespace

Utf8CharStream::Utf8CharStream(std::string_view text) : text_(text) {
  for (unsigned char c : text_) {
    if (c >= 0x80) {
      ascii_ = false;
      break;
    }
  }
  if (ascii_) {
    size_ = text_.size();
    return;
  }
  for (size_t offset = 0; offset < text_.size();
       offset += SequenceLength(static_cast<unsigned char>(text_[offset]))) {
    if (size_ % kStride == 0) checkpoints_.push_back(static_cast<uint32_t>(offset));
    ++size_;
  }
}

size_t Utf8CharStream::OffsetOf(size_t index) const {
  if (ascii_) return index;
  if (index >= size_) return text_.size();
  size_t offset = checkpoints_[index / kStride];
  for (size_t k = index % kStride; k > 0; --k) {
    offset += SequenceLength(static_cast<unsigned char>(text_[offset]));
  }
  return offset;
}

uint32_t Utf8CharStream::Decode(size_t offset) const {
  unsigned char lead = static_cast<unsigned char>(text_[offset]);
  size_t length = SequenceLength(lead);
  if (length == 1) return lead;
  uint32_t cp = lead & (0x7F >> length);
  for (size_t k = 1; k < length && offset + k < text_.size(); ++k) {
    cp = (cp << 6) | (static_cast<unsigned char>(text_[offset + k]) & 0x3F);
  }
  return cp;
}

void Utf8CharStream::consume() {
  if (index_ >= size_) throw antlr4::IllegalStateException("cannot consume EOF");
  offset_ += ascii_ ? 1 : SequenceLength(static_cast<unsigned char>(text_[offset_]));
  ++index_;
}

size_t Utf8CharStream::LA(ssize_t i) {
  // The lexer's question, once or twice per character: the next one, in
  // ASCII text.
  if (i == 1 && ascii_) {
    if (index_ >= size_) return antlr4::IntStream::EOF;
    const unsigned char byte = static_cast<unsigned char>(text_[index_]);
    if (byte != '\r') return byte;
  }
  if (i == 0) return 0;  // undefined, as in ANTLRInputStream
  ssize_t position = static_cast<ssize_t>(index_);
  if (i < 0) {
    ++i;  // LA(-1) is the previous character
    if (position + i - 1 < 0) return antlr4::IntStream::EOF;
  }
  ssize_t target = position + i - 1;
  if (target >= static_cast<ssize_t>(size_)) return antlr4::IntStream::EOF;
  size_t offset = ascii_ ? static_cast<size_t>(target)
                  : target == position ? offset_
                                       : OffsetOf(static_cast<size_t>(target));
  unsigned char byte = static_cast<unsigned char>(text_[offset]);
  // A lone CR ends a line as LF and CRLF do (see IsLineEnd in source.h): the
  // lexer sees an LF in its place, so that its line numbers agree.
  if (byte == '\r' && (offset + 1 == text_.size() || text_[offset + 1] != '\n')) return '\n';
  return ascii_ ? byte : Decode(offset);
}

void Utf8CharStream::seek(size_t index) {
  if (index > size_) index = size_;
  index_ = index;
  offset_ = OffsetOf(index);
}

std::string Utf8CharStream::getText(const antlr4::misc::Interval& interval) {
  if (interval.a < 0 || interval.b < 0) return "";
  size_t start = static_cast<size_t>(interval.a);
  size_t stop = static_cast<size_t>(interval.b);
  if (size_ == 0 || start >= size_) return "";
  if (stop >= size_) stop = size_ - 1;
  if (stop < start) return "";
  size_t begin = OffsetOf(start);
  size_t end = OffsetOf(stop + 1);
  return std::string(text_.substr(begin, end - begin));
}

}  // namespace netpolc
