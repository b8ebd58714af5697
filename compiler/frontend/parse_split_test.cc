#include "compiler/frontend/parse_split.h"

#include "third_party/catch2_main.h"

#include <string>
#include <string_view>
#include <vector>

namespace netpolc {
namespace {

std::vector<std::string> Texts(std::string_view text, size_t min_bytes = 1) {
  std::vector<std::string> out;
  uint32_t expected_begin = 0;
  for (const SourcePiece& piece : SplitDeclarations(text, min_bytes)) {
    REQUIRE(piece.begin == expected_begin);
    REQUIRE(piece.end >= piece.begin);
    out.emplace_back(text.substr(piece.begin, piece.end - piece.begin));
    expected_begin = piece.end;
  }
  REQUIRE(expected_begin == text.size());
  return out;
}

TEST_CASE("SplitDeclarations cuts between top-level declarations") {
  std::string text =
      "flag a = true;\n"
      "component x { ingress 80 from y; }\n"
      "// a comment\n"
      "component y {}\n";
  std::vector<std::string> pieces = Texts(text);
  REQUIRE(pieces.size() == 3);
  CHECK(pieces[0] == "flag a = true;");
  CHECK(pieces[1] == "\ncomponent x { ingress 80 from y; }");
  CHECK(pieces[2] == "\n// a comment\ncomponent y {}\n");
}

TEST_CASE("SplitDeclarations never cuts inside brackets, strings or comments") {
  std::string text =
      "param p: peers = pods {\"a\": \"b\"} in any namespace;\n"
      "component x { note ingress \"; } component z {\"; }\n"
      "/* ; } component w {} */ component y {}\n"
      "dns 53 to pods {\"k\": \"v\"}, instance;\n";
  std::vector<std::string> pieces = Texts(text);
  REQUIRE(pieces.size() == 4);
  CHECK(pieces[0] == "param p: peers = pods {\"a\": \"b\"} in any namespace;");
  CHECK(pieces[1] == "\ncomponent x { note ingress \"; } component z {\"; }");
  CHECK(pieces[2] == "\n/* ; } component w {} */ component y {}");
  CHECK(pieces[3] == "\ndns 53 to pods {\"k\": \"v\"}, instance;\n");
}

TEST_CASE("SplitDeclarations needs a declaration keyword after the cut") {
  // `componentx` is a name, not the keyword; a label map's `}` followed by
  // something else is no declaration's end.
  std::vector<std::string> pieces = Texts("flag a; componentx; flag b;");
  REQUIRE(pieces.size() == 2);
  CHECK(pieces[0] == "flag a; componentx;");
  CHECK(Texts("param p: peers = pods {} ;flag b;").size() == 2);
}

TEST_CASE("SplitDeclarations keeps pieces at least min_bytes long") {
  std::string text;
  for (int i = 0; i < 100; ++i) text += "flag f" + std::to_string(i) + ";\n";
  std::vector<std::string> pieces = Texts(text, 100);
  REQUIRE(pieces.size() > 1);
  for (size_t i = 0; i + 1 < pieces.size(); ++i) CHECK(pieces[i].size() >= 100);
  CHECK(Texts(text, text.size() + 1).size() == 1);
}

TEST_CASE("SplitDeclarations gives the line and column of every piece") {
  std::string text = "flag ä = true; /* é\n */ flag b;  flag c;";
  std::vector<SourcePiece> pieces = SplitDeclarations(text, 1);
  REQUIRE(pieces.size() == 3);
  CHECK(pieces[0].line == 1);
  CHECK(pieces[0].column == 1);
  CHECK(pieces[1].line == 1);
  CHECK(pieces[1].column == 15);  // code points: the ä counts once
  CHECK(pieces[2].line == 2);
  CHECK(pieces[2].column == 12);
}

TEST_CASE("SplitDeclarations ends lines at LF, CRLF and a lone CR") {
  std::vector<SourcePiece> pieces = SplitDeclarations("flag a;\rflag b;\r\nflag c;\n flag d;", 1);
  REQUIRE(pieces.size() == 4);
  CHECK(pieces[1].line == 1);
  CHECK(pieces[1].column == 8);
  CHECK(pieces[2].line == 2);
  CHECK(pieces[2].column == 8);
  CHECK(pieces[3].line == 3);
  CHECK(pieces[3].column == 8);
}

TEST_CASE("SplitDeclarations survives broken input") {
  // Unterminated strings and comments, stray closers: pieces still cover
  // the text (the caller parses the whole file to report the errors).
  for (std::string_view text : {"component x { \"unterminated\n}", "/* never closed ; flag a;",
                                "}}} flag a; ]) flag b;", "\"\\", "", ";;;"}) {
    Texts(text);
  }
}

}  // namespace
}  // namespace netpolc
