// The library's version, as CMake's project() gives it.
#pragma once

namespace tandem {

const char* version();  // "0.1.0"

}  // namespace tandem
