#include "compiler/frontend/format.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "compiler/diagnostics.h"
#include "compiler/frontend/parse.h"
#include "compiler/source.h"
#include "third_party/catch2_main.h"

namespace netpolc {
namespace {

struct Result {
  std::optional<std::string> text;
  std::string diagnostics;
};

Result Format(const std::string& text, const std::string& path = "test.netpol") {
  SourceManager sources;
  Diagnostics diagnostics;
  uint32_t id = sources.Add(path, text);
  Result result;
  result.text = FormatFile(sources, id, diagnostics);
  result.diagnostics = RenderAll(diagnostics, sources);
  return result;
}

std::string MustFormat(const std::string& text) {
  Result result = Format(text);
  INFO(result.diagnostics);
  REQUIRE(result.text.has_value());
  return *result.text;
}

std::vector<LexedToken> Lex(const std::string& text) {
  SourceManager sources;
  Diagnostics diagnostics;
  uint32_t id = sources.Add("test.netpol", text);
  std::optional<std::vector<LexedToken>> tokens = LexFile(sources, id, diagnostics);
  REQUIRE(tokens.has_value());
  return *tokens;
}

std::vector<std::string> Comments(const std::string& text) {
  std::vector<std::string> out;
  for (const LexedToken& t : Lex(text)) {
    if (t.kind == LexedToken::Kind::kLineComment || t.kind == LexedToken::Kind::kBlockComment) {
      std::string c = t.text;
      while (!c.empty() && (c.back() == ' ' || c.back() == '\t')) c.pop_back();
      out.push_back(c);
    }
  }
  return out;
}

std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// The rules files the repository ships and every golden input (runfiles).
std::vector<std::filesystem::path> InputFiles(const std::string& dir) {
  std::vector<std::filesystem::path> out;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.path().extension() == ".netpol") out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The text again with its horizontal whitespace changed at random: other
// indentation, other spaces between tokens, spaces where there were none.
// Line breaks stay.
std::string Jiggle(const std::string& text, std::mt19937& rng) {
  auto blanks = [&](int min) {
    std::string s(static_cast<size_t>(min + static_cast<int>(rng() % 3)), ' ');
    if (rng() % 4 == 0) s += '\t';
    return s;
  };
  std::string out;
  bool previous_significant = false;
  for (const LexedToken& t : Lex(text)) {
    if (t.kind == LexedToken::Kind::kWhitespace) {
      std::string ws;
      size_t newlines = CountLineEnds(t.text);  // LF, CRLF or a lone CR
      if (newlines == 0) {
        ws = blanks(1);
      } else {
        for (size_t i = 0; i < newlines; ++i) ws += blanks(0) + "\n";
        ws += blanks(0);
      }
      out += ws;
      previous_significant = false;
      continue;
    }
    bool significant = t.channel == LexedToken::Channel::kDefault && t.kind != LexedToken::Kind::kEof;
    if (significant && previous_significant && rng() % 2 == 0) out += blanks(1);
    out += t.text;
    previous_significant = significant;
  }
  return out;
}

TEST_CASE("LexFile gives back the whole text") {
  std::string text = "// c\ncomponent a { labels { \"x\": \"y\" } } /* d */\n";
  std::vector<LexedToken> tokens = Lex(text);
  std::string joined;
  for (const LexedToken& t : tokens) joined += t.text;
  CHECK(joined == text);
  REQUIRE(tokens.back().kind == LexedToken::Kind::kEof);
  CHECK(tokens[0].kind == LexedToken::Kind::kLineComment);
  CHECK(tokens[0].channel == LexedToken::Channel::kHidden);
  CHECK(tokens[2].kind == LexedToken::Kind::kKeyword);
  CHECK(tokens[2].line == 2);
  CHECK(tokens[2].column == 1);
  CHECK(tokens[4].kind == LexedToken::Kind::kIdent);
  CHECK(tokens[4].column == 11);
}

TEST_CASE("LexFile reports lexical errors") {
  SourceManager sources;
  Diagnostics diagnostics;
  uint32_t id = sources.Add("bad.netpol", "component a { \"open\n}");
  CHECK_FALSE(LexFile(sources, id, diagnostics).has_value());
  CHECK(diagnostics.has_errors());
}

TEST_CASE("block comments lex; an unterminated one is an error") {
  CHECK(MustFormat("/* a */ flag x; /* b\n */\n") == "/* a */ flag x; /* b\n */\n");
  Result result = Format("flag x; /* b\n");
  CHECK_FALSE(result.text.has_value());
  CHECK(result.diagnostics.find("test.netpol:1:9: error: unterminated block comment") !=
        std::string::npos);
}

TEST_CASE("canonical indentation and spacing") {
  CHECK(MustFormat("component   a{labels{\"app\" :\"a\"}ingress 80-90,udp 53 from b;}"
                   "component b{labels{\"app\":\"b\",};}") ==
        "component a {\n"
        "  labels { \"app\": \"a\" }\n"
        "  ingress 80-90, udp 53 from b;\n"
        "}\n"
        "component b {\n"
        "  labels { \"app\": \"b\" };\n"
        "}\n");
  CHECK(MustFormat("component a when not(x and(y or z)){labels{}}") ==
        "component a when not (x and (y or z)) {\n  labels {}\n}\n");
}

TEST_CASE("one statement per line; blocks keep one-line or multi-line form") {
  CHECK(MustFormat("flag a = true { doc \"A\"; link \"l\"; } flag b { doc \"B\";\n}") ==
        "flag a = true { doc \"A\"; link \"l\"; }\n"
        "flag b {\n"
        "  doc \"B\";\n"
        "}\n");
  CHECK(MustFormat("flag a {} flag b {\n\n}") == "flag a {}\nflag b {}\n");
  CHECK(MustFormat("component a { labels {\n\"x\": \"1\", \"y\": \"2\" } }") ==
        "component a {\n"
        "  labels {\n"
        "    \"x\": \"1\",\n"
        "    \"y\": \"2\",\n"
        "  }\n"
        "}\n");
}

TEST_CASE("comments stay where they were") {
  CHECK(MustFormat("flag a; // end of line\n// own line\n   flag b;\n") ==
        "flag a; // end of line\n// own line\nflag b;\n");
  CHECK(MustFormat("component a { // after brace\nlabels {} // after labels\n"
                   "      // before brace\n}  // after\n") ==
        "component a { // after brace\n"
        "  labels {} // after labels\n"
        "  // before brace\n"
        "} // after\n");
  // A comment inside a statement: the statement continues on the next line.
  CHECK(MustFormat("component a { ingress 80 // port\nfrom b; }\n") ==
        "component a {\n  ingress 80 // port\n      from b;\n}\n");
  // A ';' or ',' after a comment moves before it.
  CHECK(MustFormat("flag a // c\n;\n") == "flag a; // c\n");
}

TEST_CASE("blank lines are kept, at most one, none at block edges") {
  CHECK(MustFormat("\n\nflag a;\n\n\n\nflag b;\nflag c;\n\n") == "flag a;\n\nflag b;\nflag c;\n");
  CHECK(MustFormat("flag a {\n\n  doc \"x\";\n\n}\n") == "flag a {\n  doc \"x\";\n}\n");
}

TEST_CASE("line breaks after commas in lists stay") {
  CHECK(MustFormat("component a { ingress 80 from b,\n  c, d; }") ==
        "component a {\n  ingress 80 from b,\n      c, d;\n}\n");
  CHECK(MustFormat("component a { ingress 80\n from b; }") ==
        "component a {\n  ingress 80 from b;\n}\n");
}

TEST_CASE("files that do not parse are refused with a location") {
  Result result = Format("component a {\n  ingress 80 from b\n}\n");
  CHECK_FALSE(result.text.has_value());
  CHECK(result.diagnostics.find("test.netpol:3:1: error: unexpected '}'") != std::string::npos);
}

TEST_CASE("an empty file stays empty") {
  CHECK(MustFormat("") == "");
  CHECK(MustFormat("\n\n  \n") == "");
}

// Every rules file the repository ships and every golden input that parses:
// formatting is idempotent, keeps the comments, and does not depend on the
// horizontal whitespace of the input.
TEST_CASE("idempotent and comment-preserving on every input") {
  std::vector<std::filesystem::path> files = InputFiles("rules");
  REQUIRE_FALSE(files.empty());
  std::vector<std::filesystem::path> golden = InputFiles("tests/testdata");
  REQUIRE_FALSE(golden.empty());
  files.insert(files.end(), golden.begin(), golden.end());
  std::mt19937 rng(6);
  size_t formatted = 0;
  for (const std::filesystem::path& path : files) {
    INFO(path.string());
    std::string text = ReadAll(path);
    Result once = Format(text, path.string());
    if (!once.text) {
      // Only inputs with syntax errors are refused.
      CHECK(once.diagnostics.find("formatter-error") == std::string::npos);
      continue;
    }
    ++formatted;
    CHECK(Format(*once.text).text == once.text);
    CHECK(Comments(*once.text) == Comments(text));
    for (int i = 0; i < 5; ++i) {
      std::string jiggled = Jiggle(text, rng);
      INFO(jiggled);
      CHECK(Format(jiggled).text == once.text);
    }
  }
  CHECK(formatted > 0);
}

// Comments in every odd place: between any two tokens of every input, one
// of each kind of comment, one at a time. The file still parses, so it is
// formatted, idempotently, with its comments.
TEST_CASE("comments anywhere") {
  const std::vector<std::string> kComments = {
      "// line\n", "\n// own line\n", "/* block */", "\n/* own\n   lines */\n", "/*x*/\n\n",
  };
  std::vector<std::filesystem::path> files = InputFiles("tests/testdata/fmt");
  files.push_back("rules/eventstreams.netpol");
  std::mt19937 rng(66);
  size_t tried = 0;
  for (const std::filesystem::path& path : files) {
    std::string text = ReadAll(path);
    if (!Format(text).text) continue;
    std::vector<LexedToken> tokens = Lex(text);
    // The significant tokens' indices; a comment goes before one of them.
    std::vector<size_t> places;
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (tokens[i].channel == LexedToken::Channel::kDefault) places.push_back(i);
    }
    size_t step = std::max<size_t>(1, places.size() / 150);  // bounded time
    for (size_t p = rng() % step; p < places.size(); p += step) {
      const std::string& comment = kComments[rng() % kComments.size()];
      std::string mutated;
      for (size_t i = 0; i < tokens.size(); ++i) {
        if (i == places[p]) mutated += " " + comment;
        mutated += tokens[i].text;
      }
      INFO(path.string() << " with " << comment << " before token " << places[p] << ":\n"
                         << mutated);
      Result once = Format(mutated);
      REQUIRE(once.text.has_value());
      CHECK(Format(*once.text).text == once.text);
      CHECK(Comments(*once.text) == Comments(mutated));
      ++tried;
    }
  }
  CHECK(tried > 500);
}

}  // namespace
}  // namespace netpolc
