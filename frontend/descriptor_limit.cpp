// Raising the soft RLIMIT_NOFILE of the engine.
#include "frontend/descriptor_limit.hpp"

#include <sys/resource.h>

namespace tandem::cli {

void raise_descriptor_limit() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == limit.rlim_max) return;
    limit.rlim_cur = limit.rlim_max;
    (void)::setrlimit(RLIMIT_NOFILE, &limit);
}

}  // namespace tandem::cli
