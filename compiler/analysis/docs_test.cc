// docs/analysis.md shows the real output of the tools on the Event Streams
// rules: its Mermaid graph is `netpolc graph rules/eventstreams.netpol`, and
// every finding of `netpolc check` on them is listed, by line and kind.
#include <fstream>
#include <regex>
#include <sstream>

#include "compiler/cli/driver.h"
#include "third_party/catch2_main.h"

namespace netpolc {
namespace {

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST_CASE("docs/analysis.md embeds the Event Streams graph") {
  std::string doc = ReadText("docs/analysis.md");
  REQUIRE(!doc.empty());
  std::string out, err;
  REQUIRE(RunDriver({"graph", "rules/eventstreams.netpol"}, out, err) == 0);
  std::string begin = "<!-- netpolc graph rules/eventstreams.netpol -->\n```mermaid\n";
  size_t at = doc.find(begin);
  REQUIRE(at != std::string::npos);
  size_t end = doc.find("```\n<!-- end of graph -->", at);
  REQUIRE(end != std::string::npos);
  // Regenerate with: netpolc graph rules/eventstreams.netpol
  CHECK(doc.substr(at + begin.size(), end - at - begin.size()) == out);
}

TEST_CASE("docs/analysis.md lists every finding of check on Event Streams") {
  std::string doc = ReadText("docs/analysis.md");
  std::string out, err;
  CHECK(RunDriver({"check", "rules/eventstreams.netpol", "--format", "json"}, out, err) == 1);
  std::regex finding(R"re("kind": "([a-z-]+)", "severity": "(\w+)", "file": "[^"]*", "line": (\d+))re");
  size_t count = 0;
  for (std::sregex_iterator it(out.begin(), out.end(), finding), end; it != end; ++it) {
    std::string kind = (*it)[1], line = (*it)[3];
    INFO("finding " << kind << " at line " << line);
    CHECK(doc.find("`" + kind + "`") != std::string::npos);
    CHECK(std::regex_search(doc, std::regex("\\| [0-9, ]*\\b" + line + "\\b[0-9, ]* \\|")));
    ++count;
  }
  CHECK(count == 9);
  CHECK(doc.find("reports 6 errors and 3\nwarnings") != std::string::npos);
}

}  // namespace
}  // namespace netpolc
