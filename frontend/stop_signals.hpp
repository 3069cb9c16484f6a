// The signals that stop a long-running command (up, run): SIGINT, SIGTERM and SIGHUP; the
// first stops everything gracefully, a second one while that runs forces it.
#pragma once

#include <atomic>
#include <csignal>
#include <ctime>
#include <functional>
#include <thread>

namespace tandem::cli {

inline sigset_t stop_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    return set;
}

// While it lives, each further stop signal (the set stays blocked in every thread) calls
// `force` with the signal: a second Ctrl+C during a graceful stop kills what is left.
class SecondSignal {
public:
    SecondSignal(const sigset_t& signals, std::function<void(int)> force)
        : signals_(signals), force_(std::move(force)), thread_([this] { wait(); }) {}
    ~SecondSignal() {
        done_ = true;
        thread_.join();
    }
    SecondSignal(const SecondSignal&) = delete;
    SecondSignal& operator=(const SecondSignal&) = delete;

private:
    void wait() {
        const timespec tick{0, 100 * 1000 * 1000};
        while (!done_) {
            const int received = sigtimedwait(&signals_, nullptr, &tick);
            if (received > 0) force_(received);
        }
    }

    sigset_t signals_;
    std::function<void(int)> force_;
    std::atomic<bool> done_{false};
    std::thread thread_;
};

}  // namespace tandem::cli
