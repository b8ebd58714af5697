// Target `cilium`: cilium.io/v2 CiliumNetworkPolicy manifests, one per
// component with rules. See cilium.cc for the semantics relied on and
// docs/targets.md for the mapping of each language construct.
#pragma once

#include "backends/backend.h"

namespace netpolc::backends::cilium {

const Backend& Instance();

}  // namespace netpolc::backends::cilium
