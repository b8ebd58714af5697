// The list of output targets (registry.cc).
#pragma once

#include <span>
#include <string_view>

#include "backends/backend.h"

namespace netpolc::backends {

std::span<const Backend* const> AllBackends();
const Backend* FindBackend(std::string_view name);

}  // namespace netpolc::backends
