#include "compiler/cli/args.h"

namespace netpolc {

void Args::Value(const std::string& name, const std::string& alias) {
  takes_value_[name] = true;
  if (!alias.empty()) aliases_[alias] = name;
}

void Args::Switch(const std::string& name, const std::string& alias) {
  takes_value_[name] = false;
  if (!alias.empty()) aliases_[alias] = name;
}

bool Args::Parse(const std::vector<std::string>& args, std::string& error) {
  bool only_positional = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (only_positional || arg == "-" || arg.empty() || arg[0] != '-') {
      positional_.push_back(arg);
      continue;
    }
    if (arg == "--") {
      only_positional = true;
      continue;
    }
    if (arg == "--help" || arg == "-h") {
      help_ = true;
      continue;
    }
    std::string name = arg;
    std::optional<std::string> inline_value;
    size_t eq = arg.find('=');
    if (arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      name = arg.substr(0, eq);
      inline_value = arg.substr(eq + 1);
    }
    if (auto alias = aliases_.find(name); alias != aliases_.end()) name = alias->second;
    auto option = takes_value_.find(name);
    if (option == takes_value_.end()) {
      error = "unknown option '" + name + "'";
      return false;
    }
    if (!option->second) {
      if (inline_value) {
        error = "option '" + name + "' takes no value";
        return false;
      }
      values_[name].push_back("true");
      in_order_.emplace_back(name, "true");
      continue;
    }
    if (inline_value) {
      values_[name].push_back(*inline_value);
    } else if (i + 1 < args.size()) {
      values_[name].push_back(args[++i]);
    } else {
      error = "option '" + name + "' needs a value";
      return false;
    }
    in_order_.emplace_back(name, values_[name].back());
  }
  return true;
}

std::optional<std::string> Args::Get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end() || it->second.empty()) return std::nullopt;
  return it->second.back();
}

const std::vector<std::string>& Args::All(const std::string& name) const {
  static const std::vector<std::string> kNone;
  auto it = values_.find(name);
  return it == values_.end() ? kNone : it->second;
}

}  // namespace netpolc
