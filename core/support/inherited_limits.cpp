#include "support/inherited_limits.hpp"

#include <sys/resource.h>

namespace tandem {

namespace {

rlimit read_descriptor_limit() {
    rlimit limit{RLIM_INFINITY, RLIM_INFINITY};
    (void)::getrlimit(RLIMIT_NOFILE, &limit);
    return limit;
}

// Read before main() runs, so before any front-end raised it.
const rlimit started_with = read_descriptor_limit();

}  // namespace

void restore_inherited_descriptor_limit() noexcept {
    rlimit now{};
    if (::getrlimit(RLIMIT_NOFILE, &now) != 0 || now.rlim_cur <= started_with.rlim_cur) return;
    now.rlim_cur = started_with.rlim_cur;
    (void)::setrlimit(RLIMIT_NOFILE, &now);
}

}  // namespace tandem
