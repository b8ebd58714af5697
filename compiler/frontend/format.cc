#include "compiler/frontend/format.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <string_view>
#include <utility>

#include "compiler/parallel.h"
#include "compiler/frontend/parse_pieces.h"
#include "compiler/frontend/parse_split.h"
#include "compiler/source.h"

namespace netpolc {
namespace {

using Kind = LexedToken::Kind;
constexpr size_t kNone = static_cast<size_t>(-1);

// A comment, with its trailing whitespace (on each of its lines) removed.
struct Comment {
  std::string text;
  bool line_comment = false;
  // Line breaks in the source between the previous token or comment and this
  // comment: 0 means it followed something on the same line.
  int newlines_before = 0;
};

// A token the parser sees, with the comments between the previous one and it.
struct Tok {
  std::string text;
  Kind kind = Kind::kEof;
  uint32_t line = 0;
  std::vector<Comment> comments;
  // Line breaks in the source between the previous token or comment and this
  // token.
  int newlines_before = 0;

  bool eof() const { return kind == Kind::kEof; }
  bool is(std::string_view punctuation) const {
    return kind == Kind::kPunctuation && text == punctuation;
  }
};

std::string TrimComment(std::string_view text) {
  std::string out;
  size_t start = 0;
  while (true) {
    size_t end = text.find('\n', start);
    std::string_view line =
        text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    size_t keep = line.find_last_not_of(" \t\r\f\v");
    out += line.substr(0, keep == std::string_view::npos ? 0 : keep + 1);
    if (end == std::string_view::npos) break;
    out += '\n';
    start = end + 1;
  }
  return out;
}

// Groups the tokens: each significant token with the comments before it.
// `first`: nothing but whitespace seen yet (before these tokens, and then
// in them): what comes is on a line of its own. Tokens without an EOF (a
// piece of a file) end with an EOF of their own.
std::vector<Tok> Collect(const std::vector<LexedToken>& tokens, bool& first) {
  std::vector<Tok> out;
  std::vector<Comment> pending;
  int newlines = 0;
  for (const LexedToken& t : tokens) {
    switch (t.kind) {
      case Kind::kWhitespace:
        newlines += static_cast<int>(CountLineEnds(t.text));
        break;
      case Kind::kLineComment:
      case Kind::kBlockComment:
        pending.push_back(Comment{TrimComment(t.text), t.kind == Kind::kLineComment,
                                  first ? std::max(newlines, 1) : newlines});
        newlines = 0;
        first = false;
        break;
      default: {
        Tok tok;
        tok.text = t.kind == Kind::kEof ? "" : t.text;
        tok.kind = t.kind;
        tok.line = t.line;
        tok.comments = std::move(pending);
        pending.clear();
        tok.newlines_before = first ? std::max(newlines, 1) : newlines;
        out.push_back(std::move(tok));
        newlines = 0;
        first = false;
        if (t.kind == Kind::kEof) return out;
      }
    }
  }
  Tok eof;
  eof.comments = std::move(pending);
  eof.newlines_before = first ? 1 : newlines;
  out.push_back(std::move(eof));
  return out;
}

// A `;` or `,` written after comments moves before them: `a // x` + `;` on
// the next line becomes `a; // x`.
void MovePunctuationBeforeComments(std::vector<Tok>& toks) {
  for (size_t i = 0; i + 1 < toks.size(); ++i) {
    Tok& t = toks[i];
    if (!(t.is(";") || t.is(",")) || t.comments.empty()) continue;
    Tok& next = toks[i + 1];
    // Between the last moved comment and what follows the punctuation: a
    // line break (or a blank line) if there was one on either side of it.
    int& between = next.comments.empty() ? next.newlines_before
                                         : next.comments.front().newlines_before;
    between = std::max(between, t.newlines_before);
    next.comments.insert(next.comments.begin(), std::make_move_iterator(t.comments.begin()),
                         std::make_move_iterator(t.comments.end()));
    t.comments.clear();
    t.newlines_before = 0;
  }
}

// Whether canonical spacing puts a space between two tokens on one line.
bool Space(const Tok& a, const Tok& b) {
  if (b.is(";") || b.is(",") || b.is(")") || b.is("]") || b.is(":")) return false;
  if (a.is("(") || a.is("[")) return false;
  if (a.is("-") || b.is("-")) return false;  // port ranges: 8080-8090
  if (a.is(".") || b.is(".")) return false;  // qualified names: gw.gateway
  return true;
}

// Builds the output line by line.
class Printer {
 public:
  // Appends `text` to the current line (after a space when `space`, or when
  // the line ends with a comment), or starts a line indented by `indent`.
  void Put(std::string_view text, bool space, int indent, bool comment = false) {
    if (line_.empty()) {
      indent_ = indent;
      line_ = text;
    } else {
      if (space || last_comment_) line_ += ' ';
      line_ += text;
    }
    last_comment_ = comment;
  }

  bool empty() const { return line_.empty(); }
  int indent() const { return indent_; }

  void EndLine() {
    if (line_.empty()) return;
    out_.append(static_cast<size_t>(indent_), ' ');
    out_ += line_;
    out_ += '\n';
    line_.clear();
    last_comment_ = false;
  }

  // One blank line (never two, never at the start).
  void BlankLine() {
    EndLine();
    if (!out_.empty() && !out_.ends_with("\n\n")) out_ += '\n';
  }

  std::string Finish() {
    EndLine();
    while (out_.ends_with("\n\n")) out_.pop_back();
    return std::move(out_);
  }

 private:
  std::string out_;
  std::string line_;
  int indent_ = 0;
  bool last_comment_ = false;
};

// Lays out the tokens following the grammar's structure (grammar/Netpol.g4):
// a file and the body of a block are lists of items; an item is a statement
// ending with `;`, with a block (`{` items `}`), or, for `labels`, with its
// label map; label maps (after `labels`, `pods`, `namespaces`) hold
// comma-separated entries.
class Formatter {
 public:
  Formatter(std::vector<Tok> toks, Printer& printer)
      : t_(std::move(toks)), match_(t_.size(), kNone), p_(printer) {
    std::vector<size_t> open;
    for (size_t i = 0; i < t_.size(); ++i) {
      if (t_[i].is("{")) {
        open.push_back(i);
      } else if (t_[i].is("}") && !open.empty()) {
        match_[open.back()] = i;
        match_[i] = open.back();
        open.pop_back();
      }
    }
  }

  // Lays out the declarations of the tokens: the whole file (`last`), or a
  // piece of whole declarations that more follow, whose own EOF is then not
  // laid out. `at_start` (nothing written yet) carries over from piece to
  // piece, as the printer does.
  void Run(bool last, bool& at_start) {
    while (true) {
      if (!last && pos_ + 1 == t_.size()) return;
      ItemBreak(0, at_start);
      if (IsCloser(pos_)) return;
      Statement(0, /*top_level=*/true);
      at_start = false;
    }
  }

 private:
  bool IsCloser(size_t i) const { return t_[i].eof() || t_[i].is("}"); }

  size_t Close(size_t open) const { return match_[open] == kNone ? t_.size() - 1 : match_[open]; }

  bool HasComments(size_t first, size_t last) const {
    for (size_t i = first; i <= last && i < t_.size(); ++i) {
      if (!t_[i].comments.empty()) return true;
    }
    return false;
  }

  // Written on one line, without comments.
  bool OnOneLine(size_t open, size_t close) const {
    return t_[open].line == t_[close].line && !HasComments(open + 1, close);
  }

  bool OpensLabelMap(size_t i) const {
    if (i == 0 || !t_[i].is("{")) return false;
    const Tok& before = t_[i - 1];
    return before.kind == Kind::kKeyword &&
           (before.text == "labels" || before.text == "pods" || before.text == "namespaces");
  }

  void Emit(size_t i, int indent) {
    bool space = prev_ != kNone && Space(t_[prev_], t_[i]);
    p_.Put(t_[i].text, space, indent);
    prev_ = i;
  }

  // The comments before t_[pos_] inside a statement: a comment that followed
  // a token on its line stays there; one on a line of its own stays so,
  // indented as a continuation (`cont`). A line comment ends the line, and so
  // does any comment that was followed by a line break.
  void Gap(int cont) {
    const Tok& next = t_[pos_];
    for (size_t j = 0; j < next.comments.size(); ++j) {
      const Comment& c = next.comments[j];
      int after = j + 1 < next.comments.size() ? next.comments[j + 1].newlines_before
                                                 : next.newlines_before;
      if (c.newlines_before > 0) p_.EndLine();
      p_.Put(c.text, true, cont, /*comment=*/true);
      if (c.line_comment || after > 0) p_.EndLine();
    }
  }

  // The break between items before t_[pos_] (an item, or the closer of the
  // list): comments as in Gap, own-line ones indented as the items; then a
  // line break, and a blank line where the source had one or more (not at
  // the start or the end of the list). `at_start` is true until something
  // has been written in the list. An item may follow a block comment on the
  // comment's line.
  void ItemBreak(int indent, bool& at_start) {
    const Tok& next = t_[pos_];
    const bool closing = IsCloser(pos_);
    bool continue_line = false;
    for (size_t j = 0; j < next.comments.size(); ++j) {
      const Comment& c = next.comments[j];
      int after = j + 1 < next.comments.size() ? next.comments[j + 1].newlines_before
                                                 : next.newlines_before;
      bool line_end = c.line_comment || after > 0;
      if (c.newlines_before == 0 && !p_.empty()) {
        p_.Put(c.text, true, indent, /*comment=*/true);
        continue_line = false;
      } else {
        p_.EndLine();
        if (c.newlines_before >= 2 && !at_start) p_.BlankLine();
        p_.Put(c.text, false, indent, /*comment=*/true);
        at_start = false;
        continue_line = !line_end;
      }
      if (line_end) p_.EndLine();
    }
    if (continue_line && !closing) return;
    p_.EndLine();
    if (next.newlines_before >= 2 && !at_start && !closing) p_.BlankLine();
  }

  // Items until a `}` or the end of the file (left at pos_).
  void Items(int indent, bool top_level) {
    bool at_start = true;
    while (true) {
      ItemBreak(indent, at_start);
      if (IsCloser(pos_)) return;
      Statement(indent, top_level);
      at_start = false;
    }
  }

  // One item: a declaration, a component or instance item, a property.
  void Statement(int indent, bool top_level) {
    const size_t first = pos_;
    const int cont = indent + 4;
    // Component and instance bodies always get one item per line.
    const bool body = top_level && t_[first].kind == Kind::kKeyword &&
                      (t_[first].text == "component" || t_[first].text == "instance");
    Emit(pos_++, indent);
    while (!t_[pos_].eof()) {
      if (t_[pos_].is("}")) return;  // not in a file that parses
      if (t_[pos_].is(";")) {
        Gap(cont);
        Emit(pos_++, cont);
        return;
      }
      if (t_[pos_].is("{")) {
        if (OpensLabelMap(pos_)) {
          // `labels { ... }` is an item of its own, with an optional `;`.
          bool labels_item = t_[first].kind == Kind::kKeyword && t_[first].text == "labels" &&
                             pos_ == first + 1;
          LabelMap(cont);
          if (labels_item) {
            if (t_[pos_].is(";")) {
              Gap(cont);
              Emit(pos_++, cont);
            }
            return;
          }
          continue;
        }
        Block(indent, cont, body);
        return;
      }
      // A list (ports, peers, excepts) may go on over several lines: a line
      // break after a comma stays.
      if (t_[prev_].is(",") && t_[pos_].newlines_before > 0 && t_[pos_].comments.empty()) {
        p_.EndLine();
      }
      Gap(cont);
      Emit(pos_++, cont);
    }
  }

  // A block of items ending a statement: a component or instance body, or
  // a property block.
  void Block(int indent, int cont, bool body) {
    const size_t open = pos_;
    const size_t close = Close(open);
    Gap(cont);
    Emit(pos_++, cont);
    if (close == open + 1 && t_[close].comments.empty()) {
      p_.Put("}", false, indent);  // {}
      prev_ = close;
      pos_ = close + 1;
      return;
    }
    if (!body && OnOneLine(open, close)) {
      while (pos_ < close && !t_[pos_].eof()) Statement(indent, false);
      if (!t_[pos_].eof()) Emit(pos_++, indent);
      return;
    }
    Items(indent + 2, false);
    p_.EndLine();
    if (!t_[pos_].eof()) Emit(pos_++, indent);
  }

  // A label map: { "key": value, ... }.
  void LabelMap(int cont) {
    const size_t open = pos_;
    const size_t close = Close(open);
    Gap(cont);
    Emit(pos_++, cont);
    const bool comments = HasComments(open + 1, close);
    if (close == open + 1 && !comments) {
      p_.Put("}", false, cont);  // {}
      prev_ = close;
      pos_ = close + 1;
      return;
    }
    if (OnOneLine(open, close)) {
      while (pos_ < close) {
        if (t_[pos_].is(",") && pos_ + 1 == close) {  // no trailing comma on one line
          ++pos_;
          continue;
        }
        Emit(pos_++, cont);
      }
      if (!t_[pos_].eof()) Emit(pos_++, cont);
      return;
    }
    // One entry per line, each followed by a comma.
    const int base = p_.indent();
    const int inner = base + 2;
    bool at_start = true;
    while (true) {
      ItemBreak(inner, at_start);
      if (pos_ >= close || IsCloser(pos_)) break;
      Emit(pos_++, inner);
      while (pos_ < close && !t_[pos_].is(",")) {
        Gap(inner + 4);
        Emit(pos_++, inner + 4);
      }
      if (pos_ < close) {
        Emit(pos_++, inner);
      } else {
        p_.Put(",", false, inner);
      }
      at_start = false;
    }
    p_.EndLine();
    if (!t_[pos_].eof()) Emit(pos_++, base);
  }

  std::vector<Tok> t_;
  std::vector<size_t> match_;  // the index of the matching brace
  size_t pos_ = 0;             // the next token to lay out
  size_t prev_ = kNone;        // the last token written
  Printer& p_;
};

// What formatting must keep: the significant tokens (but a comma before `}`,
// which only label maps have and whose presence follows the layout) and the
// comments, trimmed.
struct Content {
  std::vector<std::string> tokens;
  std::vector<std::string> comments;
  friend bool operator==(const Content&, const Content&) = default;
};

Content ContentOf(const std::vector<LexedToken>& lexed) {
  Content content;
  std::vector<const LexedToken*> significant;
  for (const LexedToken& t : lexed) {
    if (t.kind == Kind::kLineComment || t.kind == Kind::kBlockComment) {
      content.comments.push_back(TrimComment(t.text));
    } else if (t.kind != Kind::kWhitespace && t.kind != Kind::kEof) {
      significant.push_back(&t);
    }
  }
  for (size_t i = 0; i < significant.size(); ++i) {
    const LexedToken& t = *significant[i];
    if (t.kind == Kind::kPunctuation && t.text == "," && i + 1 < significant.size() &&
        significant[i + 1]->kind == Kind::kPunctuation && significant[i + 1]->text == "}") {
      continue;
    }
    content.tokens.push_back(t.text);
  }
  return content;
}

// The pieces of a file (parse_split.h), checked to parse and lexed a batch at
// a time on the thread pool, so that only those pieces' tokens exist at once.
class PieceReader {
 public:
  PieceReader(const SourceManager& sources, uint32_t file_id)
      : sources_(sources),
        file_id_(file_id),
        pieces_(SplitDeclarations(sources.file(file_id).text, PieceBytes())) {}

  // The tokens of the next piece (the last with its EOF), or nullopt at the
  // end or on a problem (ok() tells).
  std::optional<std::vector<LexedToken>> Next() {
    if (next_ == lexed_.size()) {
      if (!ok_ || done_ == pieces_.size()) return std::nullopt;
      // The first piece alone: ANTLR's shared DFA caches are then filled
      // mostly by one thread.
      size_t count = done_ == 0 ? 1 : std::min(2 * ThreadCount(), pieces_.size() - done_);
      lexed_.assign(count, std::nullopt);
      ParallelFor(count, [&](size_t i) {
        size_t k = done_ + i;
        bool last = k + 1 == pieces_.size();
        if (!ParseFilePiece(sources_, file_id_, pieces_[k], token_count_)) return;
        lexed_[i] = LexFilePiece(sources_, file_id_, pieces_[k], last);
      });
      done_ += count;
      next_ = 0;
      for (const auto& piece : lexed_) ok_ = ok_ && piece.has_value();
      if (token_count_.load() + 1 > kMaxTokens) ok_ = false;
      if (!ok_) return std::nullopt;
    }
    return std::move(lexed_[next_++]);
  }

  bool ok() const { return ok_; }
  bool last() const { return next_ == lexed_.size() && done_ == pieces_.size(); }

 private:
  const SourceManager& sources_;
  uint32_t file_id_;
  std::vector<SourcePiece> pieces_;
  size_t done_ = 0;  // pieces lexed
  std::vector<std::optional<std::vector<LexedToken>>> lexed_;
  size_t next_ = 0;  // the next of lexed_ to hand out
  bool ok_ = true;
  std::atomic<size_t> token_count_{0};
};

// The Content (ContentOf) of a file, kept compact: each string as its
// length (4 bytes) and its bytes, tokens and comments apart.
class PackedContent {
 public:
  void Add(const Content& content) {
    for (const std::string& t : content.tokens) Put(tokens_, t);
    for (const std::string& c : content.comments) Put(comments_, c);
  }

  // Whether the next strings are those of `content`, consuming them.
  bool Match(const Content& content) {
    for (const std::string& t : content.tokens) {
      if (!Take(tokens_, token_at_, t)) return false;
    }
    for (const std::string& c : content.comments) {
      if (!Take(comments_, comment_at_, c)) return false;
    }
    return true;
  }

  bool AllMatched() const {
    return token_at_ == tokens_.size() && comment_at_ == comments_.size();
  }

 private:
  static void Put(std::string& out, const std::string& text) {
    uint32_t size = static_cast<uint32_t>(text.size());
    out.append(reinterpret_cast<const char*>(&size), sizeof size);
    out += text;
  }

  static bool Take(const std::string& in, size_t& at, const std::string& text) {
    uint32_t size = 0;
    if (in.size() - at < sizeof size) return false;
    std::memcpy(&size, in.data() + at, sizeof size);
    if (size != text.size() || in.size() - at - sizeof size < size ||
        in.compare(at + sizeof size, size, text) != 0) {
      return false;
    }
    at += sizeof size + size;
    return true;
  }

  std::string tokens_, comments_;
  size_t token_at_ = 0, comment_at_ = 0;
};

// FormatFile piece by piece: nullopt when the file does not format that way
// (pieces turned off, a problem, or a comment that a piece's last `;` would
// move into the next piece); the whole file is then formatted as before.
std::optional<std::string> FormatInPieces(const SourceManager& sources, uint32_t file_id) {
  if (PieceBytes() == 0 || !ParsableInPieces(sources, file_id)) return std::nullopt;
  Printer printer;
  bool first = true, at_start = true;
  PieceReader reader(sources, file_id);
  PackedContent content;
  while (std::optional<std::vector<LexedToken>> piece = reader.Next()) {
    const bool last = reader.last();
    content.Add(ContentOf(*piece));
    std::vector<Tok> toks = Collect(*piece, first);
    piece.reset();
    // Before the piece's own EOF: its last token, whose comments (moved
    // after a `;`) would belong to the next piece.
    if (!last && toks.size() >= 2 && !toks[toks.size() - 2].comments.empty() &&
        (toks[toks.size() - 2].is(";") || toks[toks.size() - 2].is(","))) {
      return std::nullopt;
    }
    MovePunctuationBeforeComments(toks);
    Formatter(std::move(toks), printer).Run(last, at_start);
  }
  if (!reader.ok()) return std::nullopt;
  std::string formatted = printer.Finish();

  // The formatted text must parse, with the same tokens and comments.
  SourceManager check_sources;
  uint32_t check_id = check_sources.Add(sources.file(file_id).path, formatted);
  if (!ParsableInPieces(check_sources, check_id)) return std::nullopt;
  PieceReader after(check_sources, check_id);
  while (std::optional<std::vector<LexedToken>> piece = after.Next()) {
    if (!content.Match(ContentOf(*piece))) return std::nullopt;
  }
  if (!after.ok() || !content.AllMatched()) return std::nullopt;
  return formatted;
}

}  // namespace

std::string FormatTokens(const std::vector<LexedToken>& tokens) {
  bool first = true, at_start = true;
  std::vector<Tok> toks = Collect(tokens, first);
  MovePunctuationBeforeComments(toks);
  Printer printer;
  Formatter(std::move(toks), printer).Run(/*last=*/true, at_start);
  return printer.Finish();
}

std::optional<std::string> FormatFile(const SourceManager& sources, uint32_t file_id,
                                      Diagnostics& diagnostics) {
  // Piece by piece when the file allows it (bounded memory); else as a
  // whole, which reports every problem.
  if (std::optional<std::string> formatted = FormatInPieces(sources, file_id)) return formatted;
  const size_t errors_before = diagnostics.error_count();
  if (!ParseFile(sources, file_id, diagnostics) ||
      diagnostics.error_count() > errors_before) {
    return std::nullopt;
  }
  std::optional<std::vector<LexedToken>> tokens = LexFile(sources, file_id, diagnostics);
  if (!tokens) return std::nullopt;
  std::string formatted = FormatTokens(*tokens);

  // The formatted text must parse, with the same tokens and comments.
  SourceManager check_sources;
  uint32_t check_id = check_sources.Add(sources.file(file_id).path, formatted);
  Diagnostics check_diagnostics;
  std::string problem;
  std::optional<std::vector<LexedToken>> check_tokens;
  if (!ParseFile(check_sources, check_id, check_diagnostics) ||
      !(check_tokens = LexFile(check_sources, check_id, check_diagnostics))) {
    problem = "the formatted text does not parse";
  } else {
    Content before = ContentOf(*tokens);
    Content after = ContentOf(*check_tokens);
    if (before.tokens != after.tokens) {
      problem = "the formatted text has other tokens than the file";
    } else if (before.comments != after.comments) {
      problem = "the formatted text has other comments than the file";
    }
  }
  if (!problem.empty()) {
    diagnostics.Emit(DiagnosticKind::kFormatterError, SourceLoc{file_id, 1, 1, 1}, problem);
    return std::nullopt;
  }
  return formatted;
}

}  // namespace netpolc
