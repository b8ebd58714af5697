// Target `k8s`: networking.k8s.io/v1 NetworkPolicy manifests.
#pragma once

#include "backends/backend.h"

namespace netpolc::backends::k8s {

const Backend& Instance();

}  // namespace netpolc::backends::k8s
