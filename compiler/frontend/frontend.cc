#include "compiler/frontend/frontend.h"

#include <fmt/format.h>

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <set>

#include "compiler/frontend/compile_pieces.h"
#include "compiler/cli/file_io.h"

#include "compiler/frontend/lower.h"
#include "compiler/frontend/parse.h"
#include "compiler/semantics/pod_networks.h"
#include "compiler/frontend/values.h"

namespace netpolc {
namespace {

bool ApplySetting(const std::string& setting, const ir::Module& module, ir::Config& config,
                  SourceManager& sources, std::string& err, std::vector<bool>* given_flags) {
  size_t eq = setting.find('=');
  if (eq == std::string::npos || eq == 0) {
    err += fmt::format("netpolc: error: --set {}: expected NAME=VALUE\n", Echo(setting));
    return false;
  }
  std::string name = setting.substr(0, eq);
  std::string value = setting.substr(eq + 1);
  // For messages: the setting and the name, escaped and capped.
  const std::string shown = Echo(setting), shown_name = Echo(name);
  if (std::optional<uint32_t> flag = module.FindFlag(name)) {
    if (value != "true" && value != "false") {
      err += fmt::format("netpolc: error: --set {}: flag '{}' takes true or false\n", shown,
                         shown_name);
      return false;
    }
    config.flags[*flag] = value == "true";
    if (given_flags != nullptr) (*given_flags)[*flag] = true;
    return true;
  }
  std::optional<uint32_t> index = module.FindParam(name);
  if (!index) {
    err += fmt::format(
        "netpolc: error: --set {}: the rules file declares no flag or parameter '{}'\n", shown,
        shown_name);
    return false;
  }
  const ir::Param& param = module.params[*index];
  ir::ParamValue& out = config.params[*index];
  switch (param.type) {
    case ir::ParamType::kString:
      out.text = value;
      return true;
    case ir::ParamType::kInt: {
      char* end = nullptr;
      errno = 0;
      long long n = value.empty() ? 0 : std::strtoll(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || errno != 0) {
        err += fmt::format("netpolc: error: --set {}: parameter '{}' takes an integer\n", shown,
                           shown_name);
        return false;
      }
      out.integer = n;
      out.text = std::to_string(n);
      out.missing = false;
      return true;
    }
    case ir::ParamType::kPeers: {
      // The value is a peer list in the rules syntax, shown with a caret.
      uint32_t file = sources.Add("--set " + name, value);
      Diagnostics diagnostics;
      std::optional<std::vector<ast::Peer>> peers = ParsePeerList(sources, file, diagnostics);
      std::optional<std::vector<ir::PeerRef>> lowered;
      if (peers) lowered = LowerPeerList(*peers, module, diagnostics);
      if (!lowered) {
        err += RenderAll(diagnostics, sources);
        return false;
      }
      out.peers = std::move(*lowered);
      return true;
    }
    case ir::ParamType::kCidrs: {
      std::string error;
      std::optional<std::vector<std::string>> cidrs = ParseCidrList(value, error);
      if (!cidrs) {
        err += fmt::format(
            "netpolc: error: --set {}: parameter '{}' takes a comma-separated list of CIDRs: {}\n",
            setting, name, error);
        return false;
      }
      out.text = value;
      out.cidrs = std::move(*cidrs);
      return true;
    }
  }
  return false;
}

// Resolves `import "path";` declarations: reads, parses and merges every
// imported file into the importing file's AST, depth first in the order
// written, each file once. Paths are relative to the importing file and
// confined to the directory of the file named on the command line (the
// root): absolute paths, and paths that climb (with `..`) above the root's
// directory, are refused; the path must name a `.netpol` file. Imports
// nest at most kMaxDepth deep and at most kMaxFiles files are read.
class Importer {
 public:
  static constexpr size_t kMaxDepth = 16;
  static constexpr size_t kMaxFiles = 64;

  Importer(Compilation& compilation, const std::string& root_path)
      : compilation_(compilation) {
    root_dir_ = Normalise(Dir(root_path)).value_or("");
    if (!root_dir_.empty() && root_dir_ != "/") root_dir_ += "/";
    stack_.push_back(Normalise(root_path).value_or(root_path));
    seen_.insert("|" + stack_.back());
  }

  bool Run(ast::File& root) {
    size_t errors_before = compilation_.diagnostics.error_count();
    std::vector<ast::Text> imports = std::move(root.imports);
    std::vector<ast::Text> aliases = std::move(root.import_aliases);
    root.imports.clear();
    root.import_aliases.clear();
    const std::string root_path = stack_.back();  // a copy: the stack grows
    ImportAll(imports, aliases, root_path, "", root);
    return compilation_.diagnostics.error_count() == errors_before;
  }

 private:
  // The directory part of a path ("" for a bare name), with a trailing '/'.
  static std::string Dir(const std::string& path) {
    size_t slash = path.rfind('/');
    return slash == std::string::npos ? std::string() : path.substr(0, slash + 1);
  }

  // Lexically normalised: "." and empty parts dropped, ".." taken back
  // (kept at the start of a relative path that climbs).
  static std::optional<std::string> Normalise(const std::string& path) {
    std::vector<std::string> parts;
    size_t leading_up = 0;
    bool absolute = !path.empty() && path[0] == '/';
    size_t start = 0;
    while (start <= path.size()) {
      size_t end = path.find('/', start);
      if (end == std::string::npos) end = path.size();
      std::string part = path.substr(start, end - start);
      if (part == "..") {
        if (!parts.empty()) {
          parts.pop_back();
        } else if (absolute) {
          // "/.." is "/"
        } else {
          ++leading_up;
        }
      } else if (!part.empty() && part != ".") {
        parts.push_back(part);
      }
      start = end + 1;
    }
    std::string out = absolute ? "/" : "";
    for (size_t i = 0; i < leading_up; ++i) out += "../";
    for (size_t i = 0; i < parts.size(); ++i) {
      if (i > 0) out += "/";
      out += parts[i];
    }
    return out;
  }

  // `prefix` is the product of the importing file ("" for the file being
  // compiled, "gw." for one imported `as gw`).
  void ImportAll(const std::vector<ast::Text>& imports, const std::vector<ast::Text>& aliases,
                 const std::string& importer, const std::string& prefix, ast::File& into) {
    for (size_t i = 0; i < imports.size(); ++i) {
      std::string product = prefix;
      if (i < aliases.size() && !aliases[i].value.empty()) product += aliases[i].value + ".";
      ImportOne(imports[i], importer, product, into);
    }
  }

  void ImportOne(const ast::Text& import, const std::string& importer, const std::string& product,
                 ast::File& into) {
    Diagnostics& diagnostics = compilation_.diagnostics;
    const std::string& text = import.value;
    if (text.empty()) {
      diagnostics.Emit(DiagnosticKind::kImportOutside, import.loc, text, "is empty");
      return;
    }
    if (text[0] == '/') {
      diagnostics.Emit(DiagnosticKind::kImportOutside, import.loc, text,
                       "is absolute; imports are relative to the importing file");
      return;
    }
    if (text.find('\0') != std::string::npos || text.find('\\') != std::string::npos) {
      diagnostics.Emit(DiagnosticKind::kImportOutside, import.loc, text,
                       "contains a NUL character or a backslash");
      return;
    }
    if (text.size() < 8 || text.compare(text.size() - 7, 7, ".netpol") != 0) {
      diagnostics.Emit(DiagnosticKind::kImportOutside, import.loc, text,
                       "does not name a .netpol file");
      return;
    }
    std::optional<std::string> path = Normalise(Dir(importer) + text);
    // Inside the root's directory: the normalised path starts with it and
    // does not climb out of it.
    bool inside = path && path->compare(0, root_dir_.size(), root_dir_) == 0 &&
                  path->compare(root_dir_.size(), 3, "../") != 0;
    if (!inside) {
      diagnostics.Emit(DiagnosticKind::kImportOutside, import.loc, text,
                       "leads outside the directory of the file being compiled; imports may "
                       "not climb above it with '..'");
      return;
    }
    if (std::find(stack_.begin(), stack_.end(), *path) != stack_.end()) {
      std::string chain;
      bool on = false;
      for (const std::string& p : stack_) {
        if (p == *path) on = true;
        if (on) chain += p + " -> ";
      }
      chain += *path;
      diagnostics.Emit(DiagnosticKind::kImportCycle, import.loc, chain);
      return;
    }
    // Each file is read once per product (a file imported `as` a name is
    // another product, even when the same file is also imported plainly).
    if (!seen_.insert(product + "|" + *path).second) return;
    if (stack_.size() > kMaxDepth) {
      diagnostics.Emit(DiagnosticKind::kImportTooDeep, import.loc, kMaxDepth);
      return;
    }
    if (++files_ > kMaxFiles) {
      if (files_ == kMaxFiles + 1) diagnostics.Emit(DiagnosticKind::kTooManyImports, import.loc, kMaxFiles);
      return;
    }
    // Only regular files, no larger than a rules file may be: a path that
    // leads (through a symbolic link) to a device or a pipe is not read.
    struct stat info;
    if (stat(ResolvePath(*path).c_str(), &info) == 0 &&
        (!S_ISREG(info.st_mode) || static_cast<uint64_t>(info.st_size) > kMaxSourceBytes)) {
      diagnostics.Emit(DiagnosticKind::kImportNotFound, import.loc, text,
                       S_ISREG(info.st_mode) ? "it is larger than a rules file may be"
                                             : "it is not a regular file");
      return;
    }
    std::string error;
    std::optional<std::string> contents = ReadFile(*path, error);
    if (!contents) {
      diagnostics.Emit(DiagnosticKind::kImportNotFound, import.loc, text, error);
      return;
    }
    uint32_t file = compilation_.sources.Add(*path, std::move(*contents));
    std::optional<ast::File> ast = ParseFile(compilation_.sources, file, diagnostics);
    if (!ast) return;
    stack_.push_back(*path);
    std::vector<ast::Text> nested = std::move(ast->imports);
    std::vector<ast::Text> nested_aliases = std::move(ast->import_aliases);
    ImportAll(nested, nested_aliases, *path, product, into);
    stack_.pop_back();
    if (!product.empty()) Qualify(*ast, product);
    Append(std::move(*ast), into);
  }

  // Renames every declaration of a file imported `as NAME` to NAME.x, and
  // every reference in it, so that products keep their names apart.
  static void Qualify(ast::File& f, const std::string& p) {
    auto value = [&](ast::Value& v) {
      if (v.kind == ast::Value::Kind::kParam) v.text = p + v.text;
    };
    auto labels = [&](ast::LabelMap& m) {
      for (ast::LabelEntry& e : m.entries) value(e.value);
    };
    auto peers = [&](std::vector<ast::Peer>& list) {
      for (ast::Peer& peer : list) {
        switch (peer.kind) {
          case ast::Peer::Kind::kParam:
          case ast::Peer::Kind::kComponent:
            peer.name.value = p + peer.name.value;
            break;
          case ast::Peer::Kind::kInstance:
            peer.product = p + peer.product;
            break;
          case ast::Peer::Kind::kPods:
            labels(peer.pods);
            labels(peer.ns_labels);
            value(peer.ns_name);
            peer.product = p + peer.product;
            break;
          default:
            break;
        }
      }
    };
    for (ast::Param& param : f.params) {
      param.name.value = p + param.name.value;
      if (param.default_value) value(*param.default_value);
      if (param.default_peers) peers(*param.default_peers);
    }
    for (ast::Flag& flag : f.flags) flag.name.value = p + flag.name.value;
    for (ast::Instance& instance : f.instances) {
      instance.product = p + instance.product;
      for (ast::Value& v : instance.namespaces) value(v);
      for (ast::LabelMap& m : instance.labels) labels(m);
      for (ast::Setting& setting : instance.settings) value(setting.value);
    }
    for (ast::Dns& dns : f.dns) peers(dns.peers);
    for (ast::File::EntityPeers& entity : f.entity_peers) peers(entity.peers);
    for (ast::Component& c : f.components) {
      c.name.value = p + c.name.value;
      c.product = p + c.product;
      if (c.when) QualifyCondition(*c.when, p);
      if (c.labels) labels(*c.labels);
      for (ast::LabelMap& m : c.extra_labels) labels(m);
      for (ast::Value& v : c.namespaces) value(v);
      for (ast::Rule& rule : c.rules) {
        peers(rule.peers);
        if (rule.when) QualifyCondition(*rule.when, p);
      }
      for (ast::Component::PolicyItem& policy : c.policies) {
        if (policy.when) QualifyCondition(*policy.when, p);
        if (policy.name && policy.name->kind == ast::Value::Kind::kString) {
          // {param} in the name refers to this product's parameters.
          std::string out;
          for (char ch : policy.name->text) {
            out += ch;
            if (ch == '{') out += p;
          }
          policy.name->text = out;
        }
      }
      for (ast::Component::Isolate& isolate : c.isolates) {
        if (isolate.when) QualifyCondition(*isolate.when, p);
      }
    }
  }

  // Bounded by the parser's nesting limit.
  static void QualifyCondition(ast::Condition& c, const std::string& p) {
    if (c.kind == ast::Condition::Kind::kFlag) c.flag.value = p + c.flag.value;
    for (ast::Condition& operand : c.operands) QualifyCondition(operand, p);
  }

  static void Append(ast::File&& from, ast::File& into) {
    auto move_all = [](auto& src, auto& dst) {
      for (auto& item : src) dst.push_back(std::move(item));
    };
    move_all(from.params, into.params);
    move_all(from.flags, into.flags);
    move_all(from.instances, into.instances);
    move_all(from.dns, into.dns);
    move_all(from.components, into.components);
    move_all(from.entity_peers, into.entity_peers);
  }

  Compilation& compilation_;
  std::string root_dir_;
  std::vector<std::string> stack_;
  std::set<std::string> seen_;
  size_t files_ = 0;
};

}  // namespace

std::optional<ir::Module> CompileModule(Compilation& compilation, const std::string& path,
                                        std::string text) {
  return CompileModule(compilation, compilation.sources.Add(path, std::move(text)));
}

std::optional<ir::Module> CompileModule(Compilation& compilation, uint32_t file) {
  const std::string path = compilation.sources.file(file).path;
  // Piece by piece when the file allows it (bounded memory); else as a
  // whole, which reports every problem.
  if (std::optional<ir::Module> module = CompileInPieces(compilation.sources, file)) {
    return module;
  }
  std::optional<ast::File> ast = ParseFile(compilation.sources, file, compilation.diagnostics);
  if (!ast) return std::nullopt;
  if (!ast->imports.empty()) {
    Importer importer(compilation, path);
    if (!importer.Run(*ast)) return std::nullopt;
  }
  return Lower(*ast, compilation.diagnostics);
}

std::optional<ir::Config> MakeConfig(const ir::Module& module,
                                     const std::vector<std::string>& settings,
                                     SourceManager& sources, std::string& err) {
  std::vector<ConfigSetting> all;
  for (const std::string& setting : settings) all.push_back({ConfigSetting::Kind::kSet, setting});
  return MakeConfig(module, all, sources, err);
}

std::optional<ir::Config> MakeConfig(const ir::Module& module,
                                     const std::vector<ConfigSetting>& settings,
                                     SourceManager& sources, std::string& err,
                                     std::vector<bool>* given_flags) {
  ir::Config config = ir::Config::Defaults(module);
  if (given_flags != nullptr) given_flags->assign(module.flags.size(), false);
  for (const ConfigSetting& setting : settings) {
    bool ok = setting.kind == ConfigSetting::Kind::kSet
                  ? ApplySetting(setting.text, module, config, sources, err, given_flags)
                  : ApplyValuesFile(setting.text, module, config, sources, err, given_flags);
    if (!ok) return std::nullopt;
  }
  return config;
}

}  // namespace netpolc
