// Target `calico`: projectcalico.org/v3 NetworkPolicy manifests (namespaced),
// one per component with rules. See calico.cc for the semantics relied on
// and docs/targets.md for the mapping of each language construct.
#pragma once

#include "backends/backend.h"

namespace netpolc::backends::calico {

const Backend& Instance();

}  // namespace netpolc::backends::calico
