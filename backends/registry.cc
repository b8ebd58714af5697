#include "backends/registry.h"

#include "backends/calico/calico.h"
#include "backends/cilium/cilium.h"
#include "backends/ir/ir_text.h"
#include "backends/k8s/k8s.h"
#include "backends/markdown/markdown.h"

namespace netpolc::backends {
namespace {

// Every target, one line each, in the order `netpolc targets` lists them.
const Backend* const kBackends[] = {
    &k8s::Instance(),
    &cilium::Instance(),
    &calico::Instance(),
    &ir_text::Instance(),
    &markdown::Instance(),
};

}  // namespace

std::span<const Backend* const> AllBackends() { return kBackends; }

const Backend* FindBackend(std::string_view name) {
  for (const Backend* backend : kBackends) {
    if (backend->name() == name) return backend;
  }
  return nullptr;
}

}  // namespace netpolc::backends
