#include "compiler/frontend/values.h"

#include <fmt/format.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <optional>

#include "compiler/diagnostics.h"
#include "compiler/cli/file_io.h"
#include "compiler/semantics/k8s_names.h"
#include "compiler/frontend/lower.h"
#include "compiler/frontend/parse.h"
#include "compiler/semantics/pod_networks.h"

namespace netpolc {
namespace {

using ir::PeerRef;

constexpr const char* kMetadataName = "kubernetes.io/metadata.name";

class ValuesReader {
 public:
  ValuesReader(const std::string& path, uint32_t file, const ir::Module& module, ir::Config& config,
               SourceManager& sources, std::vector<bool>* given_flags)
      : path_(path), file_(file), module_(module), config_(config), sources_(sources),
        given_flags_(given_flags) {}

  bool Run(std::string& err) {
    const std::string& text = sources_.file(file_).text;
    YAML::Node root;
    if (std::optional<SourceLoc> deep = TooDeep(text)) {
      diagnostics_.Emit(DiagnosticKind::kValuesNestingTooDeep, *deep, kMaxValuesNesting);
    } else {
      try {
        std::vector<YAML::Node> documents = YAML::LoadAll(text);
        if (documents.size() > 1) {
          diagnostics_.Emit(DiagnosticKind::kValuesMultipleDocuments, SecondDocument(documents[1]));
        } else if (documents.size() == 1) {
          root = documents[0];
        }
      } catch (const YAML::DeepRecursion& e) {
        // Not reached when TooDeep counts as yaml-cpp does; kept for any
        // nesting it does not see.
        diagnostics_.Emit(DiagnosticKind::kValuesNestingTooDeep, Loc(e.mark, 1), kMaxValuesNesting);
      } catch (const YAML::ParserException& e) {
        diagnostics_.Emit(DiagnosticKind::kValuesSyntax, Loc(e.mark, 1), e.msg);
      } catch (const YAML::Exception& e) {
        diagnostics_.Emit(DiagnosticKind::kValuesSyntax, Loc(e.mark, 1), e.msg);
      }
    }
    if (!diagnostics_.has_errors()) Apply(root);
    err += RenderAll(diagnostics_, sources_);
    return !diagnostics_.has_errors();
  }

 private:
  // Where a second document starts: its `---` line (after the first
  // document's content), else its first node.
  SourceLoc SecondDocument(const YAML::Node& second) const {
    const SourceFile& file = sources_.file(file_);
    bool content = false;
    for (uint32_t line = 1; line < file.line_starts.size() + 1; ++line) {
      std::string_view text = file.Line(line);
      bool marker = text.substr(0, 3) == "---" && (text.size() == 3 || text[3] == ' ' || text[3] == '\t');
      if (marker && content) return SourceLoc{file_, line, 1, 3};
      size_t first = text.find_first_not_of(" \t");
      if (first != std::string_view::npos && text[first] != '#' && text[first] != '%' &&
          text.substr(0, 3) != "...") {
        content = true;  // `--- a: 1` is content too
      }
    }
    return Loc(second.Mark(), 1);
  }

  // The first place where the file nests more than kMaxValuesNesting levels,
  // counting block levels by indentation (and `- ` items within a line) and
  // flow collections by their brackets, outside quoted scalars and comments.
  // It counts real nesting only, so that it never refuses a shallow file:
  // nesting it misses is still bounded by yaml-cpp's own limit.
  std::optional<SourceLoc> TooDeep(std::string_view text) const {
    std::vector<size_t> indents;  // block levels: the column of each
    size_t flow = 0;              // open flow collections
    char quote = 0;               // the quote of a scalar still open at the line's end
    std::optional<size_t> block_scalar;  // the indentation of a `|` or `>` scalar's parent
    uint32_t line = 1;
    for (size_t pos = 0; pos < text.size(); ++line) {
      size_t end = text.find('\n', pos);
      if (end == std::string_view::npos) end = text.size();
      std::string_view row = text.substr(pos, end - pos);
      pos = end + 1;
      auto at = [&](size_t byte) {
        uint32_t column = 1;
        for (size_t k = 0; k < byte && k < row.size(); ++k) {
          if ((static_cast<unsigned char>(row[k]) & 0xC0) != 0x80) ++column;
        }
        return SourceLoc{file_, line, column, 1};
      };
      // Skips a quoted scalar's text from `i` (just after its opening quote);
      // returns where it closes, or npos when it goes on to the next line.
      auto skip_quoted = [&](size_t i, char q) {
        for (; i < row.size(); ++i) {
          if (q == '"' && row[i] == '\\') {
            ++i;
          } else if (row[i] == q) {
            if (q == '\'' && i + 1 < row.size() && row[i + 1] == '\'') {
              ++i;  // '' inside a single-quoted scalar
            } else {
              return i;
            }
          }
        }
        return std::string_view::npos;
      };
      size_t i = 0;
      if (quote != 0) {
        i = skip_quoted(0, quote);
        if (i == std::string_view::npos) continue;
        quote = 0;
        ++i;
      } else {
        i = row.find_first_not_of(' ');
        if (i == std::string_view::npos || row[i] == '#' || row[i] == '\r') continue;
        if (block_scalar) {
          if (i > *block_scalar) continue;  // the block scalar's text
          block_scalar.reset();
        }
        if (flow == 0) {
          if (row.substr(0, 3) == "---" || row.substr(0, 3) == "...") {
            indents.clear();
            continue;
          }
          size_t indent = i;
          while (!indents.empty() && indents.back() >= i) indents.pop_back();
          indents.push_back(i);
          // `- - - a`: each item indicator opens a level.
          while (i + 1 < row.size() && row[i] == '-' && (row[i + 1] == ' ' || row[i + 1] == '\t')) {
            i = row.find_first_not_of(" \t", i + 1);
            if (i == std::string_view::npos) break;
            indents.push_back(i);
          }
          if (indents.size() > kMaxValuesNesting) return at(indents.back());
          if (i == std::string_view::npos) continue;
          // A block scalar (`key: |`, `- >-`): its lines are text.
          size_t last = row.find_last_not_of(" \t\r");
          size_t comment = row.find(" #");
          if (comment != std::string_view::npos) last = row.find_last_not_of(" \t", comment);
          size_t indicator = last;
          while (indicator != std::string_view::npos && indicator > 0 &&
                 (row[indicator] == '+' || row[indicator] == '-' ||
                  (row[indicator] >= '0' && row[indicator] <= '9'))) {
            --indicator;
          }
          if (indicator != std::string_view::npos && indicator > 0 &&
              (row[indicator] == '|' || row[indicator] == '>') &&
              (row[indicator - 1] == ' ' || row[indicator - 1] == ':' || row[indicator - 1] == '-')) {
            block_scalar = indent;
          }
        }
      }
      // The rest of the line: flow brackets, quoted scalars, comments.
      bool value_start = true;  // where a collection or a quoted scalar may begin
      for (; i < row.size(); ++i) {
        char ch = row[i];
        if (ch == '#' && (i == 0 || row[i - 1] == ' ' || row[i - 1] == '\t')) break;
        if ((ch == '"' || ch == '\'') && value_start) {
          size_t close = skip_quoted(i + 1, ch);
          if (close == std::string_view::npos) {
            quote = ch;
            break;
          }
          i = close;
          value_start = false;
          continue;
        }
        if ((ch == '[' || ch == '{') && value_start) {
          if (indents.size() + ++flow > kMaxValuesNesting) return at(i);
          continue;
        }
        if ((ch == ']' || ch == '}') && flow > 0) {
          --flow;
          value_start = false;
          continue;
        }
        if (ch == ' ' || ch == '\t') continue;
        value_start = ch == ',' || ch == ':' || ch == '-' || ch == '?';
      }
    }
    return std::nullopt;
  }

  // yaml-cpp marks are 0-based and count bytes; locations are 1-based and
  // count code points.
  SourceLoc Loc(const YAML::Mark& mark, uint32_t length) const {
    if (mark.line < 0 || mark.column < 0) return SourceLoc{file_, 1, 1, 1};
    uint32_t line = static_cast<uint32_t>(mark.line) + 1;
    std::string_view text = sources_.file(file_).Line(line);
    uint32_t column = 1;
    for (size_t i = 0; i < static_cast<size_t>(mark.column) && i < text.size(); ++i) {
      if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++column;
    }
    return SourceLoc{file_, line, column, std::max<uint32_t>(length, 1)};
  }

  SourceLoc Loc(const YAML::Node& node) const {
    uint32_t length = 1;
    if (node.IsScalar()) {
      length = static_cast<uint32_t>(node.Scalar().size()) + (node.Tag() == "!" ? 2 : 0);
    }
    return Loc(node.Mark(), length);
  }

  static std::string Describe(const YAML::Node& node) {
    switch (node.Type()) {
      case YAML::NodeType::Scalar:
        // A quoted scalar is always a string, whatever it spells.
        return (node.Tag() == "!" ? "the quoted string '" : "'") + Echo(node.Scalar()) + "'";
      case YAML::NodeType::Sequence:
        return node.size() == 0 ? "an empty list" : "a list";
      case YAML::NodeType::Map:
        return "a mapping";
      default:
        return "an empty value";
    }
  }

  // A missing value (`name:` alone) is reported at its name. `unquoted_ok`:
  // the value would do without its quotes (a quoted "true" for a flag).
  void WrongType(const YAML::Node& node, std::string_view what, const std::string& name,
                 std::string_view expected, bool unquoted_ok = false) {
    std::string found = Describe(node);
    if (unquoted_ok && node.IsScalar() && node.Tag() == "!") found += " (write it without quotes)";
    diagnostics_.Emit(DiagnosticKind::kValuesWrongType,
                      node.IsNull() || !node.IsDefined() ? current_key_ : Loc(node), what, name,
                      expected, found);
  }

  void Invalid(const YAML::Node& node, const std::string& message) {
    diagnostics_.Emit(DiagnosticKind::kValuesInvalidPeer, Loc(node), message);
  }

  // " (did you mean 'x'?)" when a declared name is close.
  std::string Suggest(const std::string& wrong) const {
    std::vector<std::string> names;
    for (const ir::Flag& f : module_.flags) names.push_back(f.name);
    for (const ir::Param& p : module_.params) names.push_back(p.name);
    std::string best;
    size_t best_distance = std::max<size_t>(1, wrong.size() / 3) + 1;
    for (const std::string& name : names) {
      size_t d = Distance(wrong, name);
      if (d < best_distance) {
        best_distance = d;
        best = name;
      }
    }
    return best.empty() ? "" : " (did you mean '" + best + "'?)";
  }

  static size_t Distance(std::string_view a, std::string_view b) {
    if (a.size() > 64 || b.size() > 64) return SIZE_MAX;
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
      size_t diagonal = row[0];
      row[0] = i;
      for (size_t j = 1; j <= b.size(); ++j) {
        size_t above = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
        diagonal = above;
      }
    }
    return row[b.size()];
  }

  void Apply(const YAML::Node& root) {
    if (root.IsNull()) return;  // an empty file sets nothing
    if (!root.IsMap()) {
      diagnostics_.Emit(DiagnosticKind::kValuesNotMapping, Loc(root));
      return;
    }
    std::map<std::string, SourceLoc> seen;
    for (auto it = root.begin(); it != root.end(); ++it) {
      const YAML::Node key = it->first;
      const YAML::Node value = it->second;
      if (!key.IsScalar()) {
        diagnostics_.Emit(DiagnosticKind::kValuesNotMapping, Loc(key));
        continue;
      }
      const std::string name = key.Scalar();
      auto [previous, inserted] = seen.emplace(name, Loc(key));
      if (!inserted) {
        diagnostics_.Emit(DiagnosticKind::kValuesDuplicateName, Loc(key), name);
        diagnostics_.Emit(DiagnosticKind::kRelatedRule, previous->second, "first set here");
        continue;
      }
      current_key_ = Loc(key);
      if (std::optional<uint32_t> flag = module_.FindFlag(name)) {
        SetFlag(*flag, value);
      } else if (std::optional<uint32_t> param = module_.FindParam(name)) {
        SetParam(*param, value);
      } else {
        diagnostics_.Emit(DiagnosticKind::kValuesUnknownName, Loc(key), name, Suggest(name));
      }
    }
  }

  void SetFlag(uint32_t index, const YAML::Node& value) {
    const std::string& name = module_.flags[index].name;
    auto boolean = [](const std::string& text) -> std::optional<bool> {
      if (text == "true" || text == "True" || text == "TRUE") return true;
      if (text == "false" || text == "False" || text == "FALSE") return false;
      return std::nullopt;
    };
    if (value.IsScalar() && value.Tag() != "!") {
      std::optional<bool> b = boolean(value.Scalar());
      if (!b) {
        WrongType(value, "flag", name, "true or false");
        return;
      }
      config_.flags[index] = *b;
      if (given_flags_ != nullptr) (*given_flags_)[index] = true;
      return;
    }
    WrongType(value, "flag", name, "true or false",
              value.IsScalar() && boolean(value.Scalar()).has_value());
  }

  void SetParam(uint32_t index, const YAML::Node& value) {
    const ir::Param& param = module_.params[index];
    ir::ParamValue& out = config_.params[index];
    switch (param.type) {
      case ir::ParamType::kString:
        if (!value.IsScalar()) {
          WrongType(value, "parameter", param.name, "a string");
          return;
        }
        out.text = value.Scalar();
        return;
      case ir::ParamType::kInt: {
        auto integer = [](const std::string& text) -> std::optional<long long> {
          char* end = nullptr;
          errno = 0;
          long long n = text.empty() ? 0 : std::strtoll(text.c_str(), &end, 10);
          if (text.empty() || *end != '\0' || errno != 0) return std::nullopt;
          return n;
        };
        if (!value.IsScalar() || value.Tag() == "!") {
          WrongType(value, "parameter", param.name, "an integer",
                    value.IsScalar() && integer(value.Scalar()).has_value());
          return;
        }
        std::optional<long long> parsed = integer(value.Scalar());
        if (!parsed) {
          WrongType(value, "parameter", param.name, "an integer");
          return;
        }
        long long n = *parsed;
        out.integer = n;
        out.text = std::to_string(n);
        out.missing = false;
        return;
      }
      case ir::ParamType::kPeers: {
        std::vector<PeerRef> peers;
        size_t errors = diagnostics_.error_count();
        if (value.IsScalar()) {
          RulesSyntaxPeers(param.name, value, peers);
        } else if (value.IsSequence() && value.size() > 0) {
          for (const YAML::Node& item : value) {
            if (item.IsScalar()) {
              RulesSyntaxPeers(param.name, item, peers);
            } else if (item.IsMap()) {
              if (std::optional<PeerRef> peer = KubernetesPeer(item)) peers.push_back(std::move(*peer));
            } else {
              Invalid(item, fmt::format("a peer of '{}' must be a NetworkPolicyPeer (podSelector, "
                                        "namespaceSelector, ipBlock) or peers in the rules syntax, "
                                        "not {}",
                                        param.name, Describe(item)));
            }
          }
        } else {
          WrongType(value, "parameter", param.name,
                    "a non-empty list of peers (NetworkPolicyPeers or peers in the rules syntax)");
          return;
        }
        if (diagnostics_.error_count() == errors) out.peers = std::move(peers);
        return;
      }
      case ir::ParamType::kCidrs: {
        // A list of CIDRs, or one string in the --set syntax ("a/n, b/m"),
        // quoted or not: the type is a string of CIDRs (docs/language.md).
        std::vector<std::string> cidrs;
        if (value.IsSequence() && value.size() > kMaxCidrList) {
          diagnostics_.Emit(DiagnosticKind::kInvalidCidrList, Loc(value), param.name,
                            "more than " + std::to_string(kMaxCidrList) + " CIDRs");
          return;
        }
        if (value.IsScalar()) {
          std::string error;
          std::optional<std::vector<std::string>> list = ParseCidrList(value.Scalar(), error);
          if (!list) {
            diagnostics_.Emit(DiagnosticKind::kInvalidCidrList, Loc(value), param.name, error);
            return;
          }
          cidrs = std::move(*list);
        } else if (value.IsSequence() && value.size() > 0 && value.size() <= kMaxCidrList) {
          for (const YAML::Node& item : value) {
            if (!item.IsScalar()) {
              WrongType(item, "parameter", param.name, "a list of CIDRs");
              return;
            }
            std::string error;
            std::optional<Cidr> cidr = ParseCidr(item.Scalar(), error);
            if (!cidr) {
              diagnostics_.Emit(DiagnosticKind::kInvalidCidr, Loc(item), item.Scalar(), error);
              return;
            }
            cidrs.push_back(cidr->text);
          }
          cidrs = NormaliseCidrList(std::move(cidrs));
        } else {
          WrongType(value, "parameter", param.name,
                    "a non-empty list of CIDRs, or a string of comma-separated CIDRs");
          return;
        }
        out.cidrs = std::move(cidrs);
        out.text.clear();
        for (const std::string& c : out.cidrs) out.text += (out.text.empty() ? "" : ",") + c;
        return;
      }
    }
  }

  // "kafka, anywhere": peers written as in a rules file (as with --set).
  void RulesSyntaxPeers(const std::string& name, const YAML::Node& node, std::vector<PeerRef>& out) {
    SourceLoc loc = Loc(node);
    uint32_t file = sources_.Add(fmt::format("{}:{}: {}", path_, loc.line, name), node.Scalar());
    Diagnostics inner;
    std::optional<std::vector<ast::Peer>> parsed = ParsePeerList(sources_, file, inner);
    std::optional<std::vector<PeerRef>> lowered;
    if (parsed) lowered = LowerPeerList(*parsed, module_, inner);
    if (!lowered) {
      Invalid(node, fmt::format("invalid peers for '{}' in the rules syntax (see below)", name));
      for (const Diagnostic& d : inner.all()) {
        inner_messages_ += Render(d, sources_);
      }
      return;
    }
    out.insert(out.end(), lowered->begin(), lowered->end());
  }

  // matchExpressions: a list of {key, operator, values}.
  bool Requirements(const YAML::Node& list, const char* field,
                    std::vector<ir::RequirementRef>& out) {
    if (list.IsNull()) return true;
    if (!list.IsSequence()) {
      Invalid(list, fmt::format("matchExpressions in {} must be a list of requirements (key, "
                                "operator, values), not {}",
                                field, Describe(list)));
      return false;
    }
    bool ok = true;
    for (const YAML::Node& item : list) {
      if (!item.IsMap()) {
        Invalid(item, fmt::format("a requirement must be a mapping with key, operator and values, "
                                  "not {}",
                                  Describe(item)));
        ok = false;
        continue;
      }
      std::optional<YAML::Node> key_node, op_node, values_node;
      bool item_ok = true;
      for (auto it = item.begin(); it != item.end(); ++it) {
        const std::string name = it->first.IsScalar() ? it->first.Scalar() : "";
        if (name == "key") {
          key_node = it->second;
        } else if (name == "operator") {
          op_node = it->second;
        } else if (name == "values") {
          values_node = it->second;
        } else {
          Invalid(it->first, fmt::format("unknown field '{}' in a requirement; expected key, "
                                         "operator or values",
                                         name));
          item_ok = false;
        }
      }
      if (!item_ok) {
        ok = false;
        continue;
      }
      if (!key_node || !key_node->IsScalar()) {
        Invalid(key_node ? *key_node : item, "a requirement needs a key (a label key)");
        ok = false;
        continue;
      }
      ir::RequirementRef r;
      r.key = key_node->Scalar();
      r.loc = Loc(*key_node);
      if (std::string error = CheckLabelKey(r.key); !error.empty()) {
        diagnostics_.Emit(DiagnosticKind::kInvalidLabelKey, Loc(*key_node), r.key, error);
        ok = false;
        continue;
      }
      const std::string op = op_node && op_node->IsScalar() ? op_node->Scalar() : "";
      if (op == "In") {
        r.op = ir::Requirement::Op::kIn;
      } else if (op == "NotIn") {
        r.op = ir::Requirement::Op::kNotIn;
      } else if (op == "Exists") {
        r.op = ir::Requirement::Op::kExists;
      } else if (op == "DoesNotExist") {
        r.op = ir::Requirement::Op::kDoesNotExist;
      } else {
        Invalid(op_node ? *op_node : item,
                "a requirement's operator must be In, NotIn, Exists or DoesNotExist");
        ok = false;
        continue;
      }
      bool with_values = r.op == ir::Requirement::Op::kIn || r.op == ir::Requirement::Op::kNotIn;
      bool has_values = values_node && !values_node->IsNull() &&
                        !(values_node->IsSequence() && values_node->size() == 0);
      if (with_values != has_values) {
        Invalid(values_node && !values_node->IsNull() ? *values_node : *op_node,
                with_values ? fmt::format("operator {} needs a non-empty list of values", op)
                            : fmt::format("operator {} takes no values", op));
        ok = false;
        continue;
      }
      if (with_values) {
        if (!values_node->IsSequence()) {
          Invalid(*values_node, fmt::format("values must be a list of label values, not {}",
                                            Describe(*values_node)));
          ok = false;
          continue;
        }
        for (const YAML::Node& v : *values_node) {
          if (!v.IsScalar()) {
            Invalid(v, "values must be a list of label values");
            item_ok = false;
            continue;
          }
          if (std::string error = CheckLabelValue(v.Scalar()); !error.empty()) {
            diagnostics_.Emit(DiagnosticKind::kInvalidLabelValue, Loc(v), v.Scalar(), error);
            item_ok = false;
            continue;
          }
          ir::ValueRef value;
          value.literal = v.Scalar();
          value.loc = Loc(v);
          r.values.push_back(std::move(value));
        }
        if (!item_ok) {
          ok = false;
          continue;
        }
      }
      out.push_back(std::move(r));
    }
    return ok;
  }

  std::optional<std::vector<ir::LabelRef>> Selector(const YAML::Node& node, const char* field,
                                                    std::vector<ir::RequirementRef>* exprs) {
    if (!node.IsMap()) {
      Invalid(node, fmt::format("{} must be a mapping with matchLabels and matchExpressions, not {}",
                                field, Describe(node)));
      return std::nullopt;
    }
    std::vector<ir::LabelRef> labels;
    bool ok = true;
    for (auto it = node.begin(); it != node.end(); ++it) {
      const std::string key = it->first.IsScalar() ? it->first.Scalar() : "";
      if (key == "matchExpressions") {
        if (!Requirements(it->second, field, *exprs)) ok = false;
        continue;
      }
      if (key != "matchLabels") {
        Invalid(it->first, fmt::format("unknown field '{}' in {}; expected matchLabels or "
                                       "matchExpressions",
                                       Echo(key), field));
        ok = false;
        continue;
      }
      const YAML::Node map = it->second;
      if (map.IsNull()) continue;
      if (!map.IsMap()) {
        Invalid(map, fmt::format("matchLabels must be a mapping of label keys to values, not {}",
                                 Describe(map)));
        ok = false;
        continue;
      }
      for (auto label = map.begin(); label != map.end(); ++label) {
        if (!label->first.IsScalar() || !label->second.IsScalar()) {
          Invalid(label->second.IsScalar() ? label->first : label->second,
                  "a label must be a key and a string value");
          ok = false;
          continue;
        }
        std::string k = label->first.Scalar(), v = label->second.Scalar();
        if (std::string error = CheckLabelKey(k); !error.empty()) {
          diagnostics_.Emit(DiagnosticKind::kInvalidLabelKey, Loc(label->first), k, error);
          ok = false;
          continue;
        }
        if (std::string error = CheckLabelValue(v); !error.empty()) {
          diagnostics_.Emit(DiagnosticKind::kInvalidLabelValue, Loc(label->second), v, error);
          ok = false;
          continue;
        }
        if (std::any_of(labels.begin(), labels.end(),
                        [&](const ir::LabelRef& l) { return l.key == k; })) {
          diagnostics_.Emit(DiagnosticKind::kDuplicateLabel, Loc(label->first), k);
          ok = false;
          continue;
        }
        ir::LabelRef ref;
        ref.key = k;
        ref.loc = Loc(label->first);
        ref.value.literal = v;
        ref.value.loc = Loc(label->second);
        labels.push_back(std::move(ref));
      }
    }
    if (!ok) return std::nullopt;
    return labels;
  }

  // A NetworkPolicyPeer: podSelector and/or namespaceSelector, or ipBlock.
  std::optional<PeerRef> KubernetesPeer(const YAML::Node& node) {
    PeerRef peer;
    peer.loc = Loc(node.Mark(), 1);
    std::optional<YAML::Node> pods, namespaces, block;
    bool ok = true;
    for (auto it = node.begin(); it != node.end(); ++it) {
      const std::string key = it->first.IsScalar() ? it->first.Scalar() : "";
      if (key == "podSelector") {
        pods = it->second;
      } else if (key == "namespaceSelector") {
        namespaces = it->second;
      } else if (key == "ipBlock") {
        block = it->second;
      } else {
        Invalid(it->first, fmt::format("unknown field '{}' in a NetworkPolicyPeer; expected "
                                       "podSelector, namespaceSelector or ipBlock",
                                       Echo(key)));
        ok = false;
      }
    }
    if (!ok) return std::nullopt;
    if (block) {
      if (pods || namespaces) {
        Invalid(node, "a NetworkPolicyPeer with ipBlock cannot also have podSelector or namespaceSelector");
        return std::nullopt;
      }
      return IpBlock(*block, peer);
    }
    if (!pods && !namespaces) {
      Invalid(node, "a NetworkPolicyPeer needs podSelector, namespaceSelector or ipBlock");
      return std::nullopt;
    }
    peer.kind = PeerRef::Kind::kPods;
    if (pods) {
      std::optional<std::vector<ir::LabelRef>> labels =
          Selector(*pods, "podSelector", &peer.pod_exprs);
      if (!labels) return std::nullopt;
      peer.pod_labels = std::move(*labels);
    }
    if (!namespaces) {
      peer.ns = PeerRef::Namespace::kInstance;  // the policy's own namespace
      return peer;
    }
    std::optional<std::vector<ir::LabelRef>> labels =
        Selector(*namespaces, "namespaceSelector", &peer.ns_exprs);
    if (!labels) return std::nullopt;
    if (labels->empty() && peer.ns_exprs.empty()) {
      peer.ns = PeerRef::Namespace::kAny;
    } else if (labels->size() == 1 && (*labels)[0].key == kMetadataName && peer.ns_exprs.empty()) {
      peer.ns = PeerRef::Namespace::kNamed;
      peer.ns_name = (*labels)[0].value;
      if (std::string error = CheckDns1123Label(peer.ns_name.literal); !error.empty()) {
        diagnostics_.Emit(DiagnosticKind::kInvalidNamespace, peer.ns_name.loc, peer.ns_name.literal,
                          error);
        return std::nullopt;
      }
    } else {
      peer.ns = PeerRef::Namespace::kLabels;
      peer.ns_labels = std::move(*labels);
    }
    return peer;
  }

  std::optional<PeerRef> IpBlock(const YAML::Node& node, PeerRef peer) {
    if (!node.IsMap()) {
      Invalid(node, fmt::format("ipBlock must be a mapping with cidr and except, not {}", Describe(node)));
      return std::nullopt;
    }
    std::optional<YAML::Node> cidr_node, except_node;
    for (auto it = node.begin(); it != node.end(); ++it) {
      const std::string key = it->first.IsScalar() ? it->first.Scalar() : "";
      if (key == "cidr") {
        cidr_node = it->second;
      } else if (key == "except") {
        except_node = it->second;
      } else {
        Invalid(it->first, fmt::format("unknown field '{}' in ipBlock; expected cidr or except", Echo(key)));
        return std::nullopt;
      }
    }
    if (!cidr_node || !cidr_node->IsScalar()) {
      Invalid(cidr_node ? *cidr_node : node, "ipBlock needs a cidr such as 10.0.0.0/8");
      return std::nullopt;
    }
    std::string error;
    std::optional<Cidr> cidr = ParseCidr(cidr_node->Scalar(), error);
    if (!cidr) {
      diagnostics_.Emit(DiagnosticKind::kInvalidCidr, Loc(*cidr_node), cidr_node->Scalar(), error);
      return std::nullopt;
    }
    peer.kind = PeerRef::Kind::kCidr;
    peer.cidr = cidr->text;
    if (except_node && !except_node->IsNull()) {
      if (!except_node->IsSequence()) {
        Invalid(*except_node, fmt::format("except must be a list of CIDRs, not {}", Describe(*except_node)));
        return std::nullopt;
      }
      for (const YAML::Node& e : *except_node) {
        if (!e.IsScalar()) {
          Invalid(e, "except must be a list of CIDRs");
          return std::nullopt;
        }
        std::optional<Cidr> inner = ParseCidr(e.Scalar(), error);
        if (!inner) {
          diagnostics_.Emit(DiagnosticKind::kInvalidCidr, Loc(e), e.Scalar(), error);
          return std::nullopt;
        }
        if (!StrictlyInside(*inner, *cidr)) {
          diagnostics_.Emit(DiagnosticKind::kInvalidExcept, Loc(e), e.Scalar(), cidr_node->Scalar());
          return std::nullopt;
        }
        peer.except.push_back(inner->text);
      }
    }
    return peer;
  }

 public:
  std::string inner_messages_;

 private:
  const std::string& path_;
  uint32_t file_;
  const ir::Module& module_;
  ir::Config& config_;
  SourceManager& sources_;
  std::vector<bool>* given_flags_;
  Diagnostics diagnostics_;
  SourceLoc current_key_;
};

}  // namespace

bool ApplyValuesFile(const std::string& path, const ir::Module& module, ir::Config& config,
                     SourceManager& sources, std::string& err, std::vector<bool>* given_flags) {
  std::string error;
  std::optional<std::string> text = ReadFile(path, error, kMaxValuesFileBytes);
  if (!text) {
    err += fmt::format("netpolc: error: cannot read values file '{}': {}\n", path, error);
    return false;
  }
  // YAML's line breaks are LF, CRLF and a lone CR; yaml-cpp knows only the
  // first two.
  uint32_t file = sources.Add(path, LoneCrToLf(std::move(*text)));
  ValuesReader reader(path, file, module, config, sources, given_flags);
  bool ok = reader.Run(err);
  err += reader.inner_messages_;
  return ok;
}

}  // namespace netpolc
