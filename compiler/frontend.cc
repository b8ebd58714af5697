#include "compiler/frontend.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>

#include "compiler/lower.h"
#include "compiler/parse.h"
#include "compiler/pod_networks.h"
#include "compiler/values.h"

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

}  // namespace

std::optional<ir::Module> CompileModule(Compilation& compilation, const std::string& path,
                                        std::string text) {
  uint32_t file = compilation.sources.Add(path, std::move(text));
  std::optional<ast::File> ast = ParseFile(compilation.sources, file, compilation.diagnostics);
  if (!ast) return std::nullopt;
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
