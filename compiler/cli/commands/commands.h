// The entry points of the commands (one file each under compiler/cli/commands/).
#pragma once

#include <string>
#include <vector>

#include "compiler/cli/commands/command.h"

namespace netpolc {

int RunBuild(const std::vector<std::string>& args, std::string& out, std::string& err);
std::string BuildUsage();
int RunTargets(const std::vector<std::string>& args, std::string& out, std::string& err);
std::string TargetList();
int RunFmt(const std::vector<std::string>& args, std::string& out, std::string& err);
std::string FmtUsage();

int RunCheck(const std::vector<std::string>& args, std::string& out, std::string& err);
std::string CheckUsage();
int RunExplain(const std::vector<std::string>& args, std::string& out, std::string& err);
std::string ExplainUsage();
int RunDiff(const std::vector<std::string>& args, std::string& out, std::string& err);
std::string DiffUsage();
int RunGraph(const std::vector<std::string>& args, std::string& out, std::string& err);
std::string GraphUsage();

int RunConnlist(const std::vector<std::string>& args, std::string& out, std::string& err);
std::string ConnlistUsage();
int RunVerify(const std::vector<std::string>& args, std::string& out, std::string& err);
std::string VerifyUsage();
int RunImport(const std::vector<std::string>& args, std::string& out, std::string& err);
std::string ImportUsage();

}  // namespace netpolc
