// Kubernetes naming rules, CIDR parsing, YAML scalar quoting and diagnostic
// rendering.
#include "backends/yaml_writer.h"
#include "compiler/diagnostics.h"
#include "compiler/semantics/k8s_names.h"
#include "compiler/frontend/parse.h"
#include "third_party/catch2_main.h"

namespace netpolc {
namespace {

TEST_CASE("label keys") {
  CHECK(CheckLabelKey("app.kubernetes.io/name").empty());
  CHECK(CheckLabelKey("app").empty());
  CHECK(CheckLabelKey("A_b.c-D").empty());
  CHECK(CheckLabelKey(std::string(63, 'a')).empty());
  CHECK_FALSE(CheckLabelKey(std::string(64, 'a')).empty());
  CHECK_FALSE(CheckLabelKey("").empty());
  CHECK_FALSE(CheckLabelKey("/name").empty());
  CHECK_FALSE(CheckLabelKey("Example.com/name").empty());
  CHECK_FALSE(CheckLabelKey("a/b/c").empty());
  CHECK_FALSE(CheckLabelKey("name-").empty());
  CHECK_FALSE(CheckLabelKey(std::string(254, 'a') + "/x").empty());
}

TEST_CASE("label values") {
  CHECK(CheckLabelValue("").empty());
  CHECK(CheckLabelValue("kafka").empty());
  CHECK(CheckLabelValue("Kafka_1.2-x").empty());
  CHECK_FALSE(CheckLabelValue("a b").empty());
  CHECK_FALSE(CheckLabelValue("_a").empty());
  CHECK_FALSE(CheckLabelValue(std::string(64, 'a')).empty());
}

TEST_CASE("DNS names") {
  CHECK(CheckDns1123Label("event-streams").empty());
  CHECK_FALSE(CheckDns1123Label("Event").empty());
  CHECK_FALSE(CheckDns1123Label("a.b").empty());
  CHECK_FALSE(CheckDns1123Label("-a").empty());
  CHECK(CheckDns1123Subdomain("es-kafka.v1").empty());
  CHECK_FALSE(CheckDns1123Subdomain("es..kafka").empty());
  CHECK_FALSE(CheckDns1123Subdomain("es_kafka").empty());
}

TEST_CASE("CIDRs") {
  std::string error;
  auto v4 = ParseCidr("10.0.0.0/8", error);
  REQUIRE(v4);
  CHECK(v4->text == "10.0.0.0/8");
  auto v6 = ParseCidr("fd00:0::/8", error);
  REQUIRE(v6);
  CHECK(v6->text == "fd00::/8");
  auto inner = ParseCidr("10.1.0.0/16", error);
  REQUIRE(inner);
  CHECK(StrictlyInside(*inner, *v4));
  CHECK_FALSE(StrictlyInside(*v4, *v4));
  CHECK_FALSE(StrictlyInside(*inner, *v6));
  CHECK_FALSE(ParseCidr("10.0.0.0/", error));
  CHECK_FALSE(ParseCidr("10.0.0.0/-1", error));
  CHECK_FALSE(ParseCidr("::/129", error));
  CHECK_FALSE(ParseCidr("10.0.0.0/1234", error));
}

TEST_CASE("YAML scalars are quoted when a reader could mistake them") {
  using backends::YamlScalar;
  CHECK(YamlScalar("kafka") == "kafka");
  CHECK(YamlScalar("app.kubernetes.io/name") == "app.kubernetes.io/name");
  CHECK(YamlScalar("0.0.0.0/0") == "0.0.0.0/0");
  CHECK(YamlScalar("10.0") == "\"10.0\"");
  CHECK(YamlScalar("8080") == "\"8080\"");
  CHECK(YamlScalar("true") == "\"true\"");
  CHECK(YamlScalar("No") == "\"No\"");
  CHECK(YamlScalar("null") == "\"null\"");
  CHECK(YamlScalar("") == "\"\"");
  CHECK(YamlScalar("1e3") == "\"1e3\"");
  CHECK(YamlScalar("::/0") == "\"::/0\"");
  CHECK(YamlScalar("a: b") == "\"a: b\"");
  CHECK(YamlScalar("say \"hi\"\n") == "\"say \\\"hi\\\"\\n\"");
  CHECK(YamlScalar("app.kubernetes.io/name == 'kafka'") == "\"app.kubernetes.io/name == 'kafka'\"");
}

TEST_CASE("diagnostics keep tabs and count code points") {
  SourceManager sources;
  uint32_t file = sources.Add("x.netpol", "\tcaf\xc3\xa9 zz\nnext\n");
  Diagnostics diagnostics;
  diagnostics.Emit(DiagnosticKind::kUnknownComponent, SourceLoc{file, 1, 7, 2}, "zz", "");
  CHECK(RenderAll(diagnostics, sources) ==
        "x.netpol:1:7: error: unknown component 'zz' [unknown-component]\n"
        "\tcaf\xc3\xa9 zz\n"
        "\t     ^~\n");
}

TEST_CASE("carets never run past the end of the line") {
  SourceManager sources;
  uint32_t file = sources.Add("x.netpol", "abc\n");
  Diagnostics diagnostics;
  diagnostics.Emit(DiagnosticKind::kUnknownComponent, SourceLoc{file, 1, 2, 40}, "bc", "");
  CHECK(RenderAll(diagnostics, sources) ==
        "x.netpol:1:2: error: unknown component 'bc' [unknown-component]\nabc\n ^~\n");
}

TEST_CASE("oversized input is refused before lexing") {
  SourceManager sources;
  uint32_t file = sources.Add("big.netpol", std::string(kMaxSourceBytes + 1, ' '));
  Diagnostics diagnostics;
  CHECK_FALSE(ParseFile(sources, file, diagnostics));
  REQUIRE(diagnostics.all().size() == 1);
  CHECK(diagnostics.all()[0].kind == DiagnosticKind::kFileTooLarge);
  CHECK(diagnostics.all()[0].message == "the file is larger than 67108864 bytes");
}

TEST_CASE("deep nesting is refused, not recursed into") {
  SourceManager sources;
  std::string text = "flag a; component x { labels {\"a\": \"b\"} ingress 1 from anywhere when " +
                     std::string(100000, '(') + "a" + std::string(100000, ')') + "; }";
  uint32_t file = sources.Add("deep.netpol", text);
  Diagnostics diagnostics;
  CHECK_FALSE(ParseFile(sources, file, diagnostics));
  REQUIRE(diagnostics.all().size() == 1);
  CHECK(diagnostics.all()[0].kind == DiagnosticKind::kNestingTooDeep);
}

TEST_CASE("ShownAsIsKeepLines is true exactly for printable ASCII, tabs and newlines") {
  auto reference = [](const std::string& s) {
    for (unsigned char c : s) {
      if (!((c >= 0x20 && c < 0x7F) || c == '\t' || c == '\n')) return false;
    }
    return true;
  };
  // Every byte value at every position of a 20-byte text (both sides of the
  // 8-byte words ShownAsIs reads), and in a text of its own.
  for (int b = 0; b < 256; ++b) {
    for (size_t at = 0; at < 20; ++at) {
      std::string s(20, 'a');
      s[at] = static_cast<char>(b);
      INFO("byte " << b << " at " << at);
      CHECK(ShownAsIsKeepLines(s) == reference(s));
      // An ASCII control character is escaped; what is shown as it is stays.
      if (b < 0x80) CHECK((EscapeControlsKeepLines(s) == s) == reference(s));
    }
    std::string one(1, static_cast<char>(b));
    CHECK(ShownAsIsKeepLines(one) == reference(one));
  }
  CHECK(ShownAsIsKeepLines(""));
}

}  // namespace
}  // namespace netpolc
