// The version string, set by CMake at build time.
#include <tandem/version.hpp>

namespace tandem {

const char* version() { return TANDEM_VERSION_STRING; }

}  // namespace tandem
