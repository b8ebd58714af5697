// Target `markdown`: the "Network policies" documentation page, one table of
// allowed connections per component and direction (docs/markdown.md).
#pragma once

#include "backends/backend.h"

namespace netpolc::backends::markdown {

const Backend& Instance();

}  // namespace netpolc::backends::markdown
