#include "backends/backend.h"

namespace netpolc::backends {

bool RenderWithWriter(const Backend& backend, const Input& input, std::string& out,
                      Diagnostics& diagnostics) {
  const size_t mark = out.size();
  std::unique_ptr<PolicyWriter> writer =
      backend.StartPolicies(input, input.policies->policies.size(), out);
  writer->Write(input.policies->policies, out);
  if (writer->Finish(out, diagnostics)) return true;
  out.resize(mark);
  return false;
}

}  // namespace netpolc::backends
