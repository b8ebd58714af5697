// Unit tests of the markdown target's table layout and wording helpers. The
// pages themselves are covered by the golden cases (testdata/).
#include <string>

#include "backends/markdown/escape.h"
#include "backends/markdown/layout.h"
#include "backends/markdown/table.h"
#include "backends/markdown/wording.h"
#include "third_party/catch2_main.h"

namespace netpolc::backends::markdown {
namespace {

using Op = ir::Condition::Op;

TEST_CASE("columns are padded to the widest cell, dashes span the cell") {
  Table table({"**Type**", "**Port**"});
  table.AddRow({"TCP", "8080"});
  table.AddRow({"SCTP", "9092-9094"});
  std::string out;
  table.Render(out);
  CHECK(out ==
        "| **Type** | **Port**  |\n"
        "|----------|-----------|\n"
        "| TCP      | 8080      |\n"
        "| SCTP     | 9092-9094 |\n");
}

TEST_CASE("widths count code points, not bytes") {
  CHECK(DisplayWidth("Zürich") == 6);
  Table table({"a"});
  table.AddRow({"é"});
  std::string out;
  table.Render(out);
  // Three dashes at least; "é" is one column wide.
  CHECK(out == "| a |\n|---|\n| é |\n");
}

TEST_CASE("short rows are completed, cells are escaped") {
  Table table({"x", "y"});
  table.AddRow({"a|b"});
  std::string out;
  table.Render(out);
  CHECK(out == "| x    | y |\n|------|---|\n| a\\|b |   |\n");
  CHECK(EscapeCell("a\\|b") == "a\\|b");  // already escaped
  CHECK(EscapeCell("one\ntwo") == "one two");
}

TEST_CASE("names and notes stay on one line") {
  CHECK(OneLine("A\n===") == "A ===");
  CHECK(OneLine("a\r\n\r\nb") == "a b");
  CHECK(OneLine("end\n") == "end ");
  CHECK(OneLine("plain") == "plain");
}

TEST_CASE("links stay links") {
  CHECK(LinkText("the [x] doc") == "the \\[x\\] doc");
  CHECK(LinkDestination("https://e.com/a)b c(d") == "https://e.com/a%29b%20c%28d");
  CHECK(LinkDestination("../x/#a-b") == "../x/#a-b");
  CHECK(LinkDestination("a<b>|`\\\x7f") == "a%3Cb%3E%7C%60%5C%7F");
}

TEST_CASE("formats fill placeholders and keep Liquid and kramdown braces") {
  auto lookup = [](std::string_view name) -> std::optional<std::string> {
    if (name == "slug") return std::string("kafka-pod");
    if (name == "port") return std::string("8080");
    return std::nullopt;
  };
  CHECK(Fill("{: #{slug}}", lookup) == "{: #kafka-pod}");
  CHECK(Fill("Port {port} {{site.data.reuse.icp_master_host}}", lookup) ==
        "Port 8080 {{site.data.reuse.icp_master_host}}");
  CHECK(Fill("{% if x %}{port}{% endif %}", lookup) == "{% if x %}8080{% endif %}");
  std::vector<std::string> unknown;
  CHECK(Fill("{slug} {nope} {Not} {", lookup, &unknown) == "kafka-pod {nope} {Not} {");
  CHECK(unknown == std::vector<std::string>{"nope"});
  CHECK(Fill("{{ unclosed", lookup) == "{{ unclosed");
}

TEST_CASE("slugs are kramdown's header ids") {
  CHECK(Slug(" Kafka broker pod") == "kafka-broker-pod");
  CHECK(Slug("Inbound network connections (ingress)") == "inbound-network-connections-ingress");
  CHECK(Slug("12. Another one 1 here") == "another-one-1-here");
  CHECK(Slug("Do ^& it now") == "do--it-now");
  CHECK(Slug("123456789") == "section");
}

TEST_CASE("lists are joined with commas and a final word") {
  CHECK(JoinList({}, "and").empty());
  CHECK(JoinList({"A"}, "and") == "A");
  CHECK(JoinList({"A", "B"}, "and") == "A and B");
  CHECK(JoinList({"A", "B", "C"}, "or") == "A, B or C");
  CHECK(JoinList({"A", "B"}, "and", true) == "A, and B");
}

ir::Module FlagsModule() {
  ir::Module module;
  ir::Flag tls;
  tls.name = "tls";
  tls.doc = "TLS";
  tls.link = "#tls";
  tls.enabled = "If {doc} is enabled";
  tls.disabled = "If {doc} is disabled";
  module.flags.push_back(tls);
  ir::Flag jmx;
  jmx.name = "jmx";
  jmx.doc = "JMX";
  jmx.enabled = "If {doc} is exposed";
  jmx.disabled = "If no JMX port is exposed";
  module.flags.push_back(jmx);
  return module;
}

ir::Condition::Node FlagNode(uint32_t flag) {
  ir::Condition::Node node;
  node.op = Op::kFlag;
  node.flag = flag;
  return node;
}

ir::Condition::Node OpNode(Op op, std::vector<uint32_t> operands) {
  ir::Condition::Node node;
  node.op = op;
  node.operands = std::move(operands);
  return node;
}

TEST_CASE("conditions: flags, polarity and constants") {
  ir::Module module = FlagsModule();
  ir::Condition always;
  CHECK(ConditionText(module, always) == "Always");
  ir::Condition tls;
  tls.nodes = {FlagNode(0)};
  CHECK(ConditionText(module, tls) == "If [TLS](#tls) is enabled");
  ir::Condition not_jmx;
  not_jmx.nodes = {FlagNode(1), OpNode(Op::kNot, {0})};
  CHECK(ConditionText(module, not_jmx) == "If no JMX port is exposed");
  ir::Condition never;
  never.nodes = {FlagNode(0), ir::Condition::Node{Op::kFalse, 0, {}}, OpNode(Op::kAnd, {0, 1})};
  CHECK(ConditionText(module, never) == "Never");
}

TEST_CASE("conditions: not is pushed down to the flags") {
  ir::Module module = FlagsModule();
  // not (tls and jmx) == not tls or not jmx
  ir::Condition c;
  c.nodes = {FlagNode(0), FlagNode(1), OpNode(Op::kAnd, {0, 1}), OpNode(Op::kNot, {2})};
  CHECK(ConditionText(module, c) == "If [TLS](#tls) is disabled or no JMX port is exposed");
}

TEST_CASE("conditions: nested groups are set off") {
  ir::Module module = FlagsModule();
  // (tls or jmx) and not tls
  ir::Condition c;
  c.nodes = {FlagNode(0), FlagNode(1), OpNode(Op::kOr, {0, 1}), FlagNode(0), OpNode(Op::kNot, {3}),
             OpNode(Op::kAnd, {2, 4})};
  CHECK(ConditionText(module, c) ==
        "If either [TLS](#tls) is enabled or JMX is exposed, and [TLS](#tls) is disabled");
}

}  // namespace
}  // namespace netpolc::backends::markdown
