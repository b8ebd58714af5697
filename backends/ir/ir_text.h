// Target `ir`: the canonical policy IR as text, for golden tests and for
// seeing exactly what every policy backend receives.
#pragma once

#include "backends/backend.h"

namespace netpolc::backends::ir_text {

const Backend& Instance();

}  // namespace netpolc::backends::ir_text
