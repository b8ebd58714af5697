// A small command-line option parser shared by the netpolc commands.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace netpolc {

class Args {
 public:
  // Declares an option taking a value ("--target"); `alias` like "-o".
  void Value(const std::string& name, const std::string& alias = "");
  // Declares a boolean switch ("--check").
  void Switch(const std::string& name, const std::string& alias = "");

  // Parses `args`; on error returns false and sets `error`. `--help`/`-h`
  // sets help(). Options may be given as "--opt value" or "--opt=value".
  bool Parse(const std::vector<std::string>& args, std::string& error);

  bool help() const { return help_; }
  const std::vector<std::string>& positional() const { return positional_; }
  // The last value given for `name`, if any.
  std::optional<std::string> Get(const std::string& name) const;
  // Every value given for `name`, in order.
  const std::vector<std::string>& All(const std::string& name) const;
  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  // Every (option, value) given, in command-line order (for options whose
  // relative order matters, like --set and --values).
  const std::vector<std::pair<std::string, std::string>>& InOrder() const { return in_order_; }

 private:
  std::map<std::string, bool> takes_value_;  // option -> takes a value
  std::map<std::string, std::string> aliases_;
  std::map<std::string, std::vector<std::string>> values_;
  std::vector<std::string> positional_;
  std::vector<std::pair<std::string, std::string>> in_order_;
  bool help_ = false;
};

}  // namespace netpolc
