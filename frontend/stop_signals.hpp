// The signals that stop a long-running command (up, run): SIGINT, SIGTERM and SIGHUP.
#pragma once

#include <csignal>

namespace tandem::cli {

inline sigset_t stop_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    return set;
}

}  // namespace tandem::cli
