// The EventLoop (tandem/runtime.hpp) over an Asio io_context on a thread of its own: what the
// process runtime gives the executor, and what its own children, proxies and probes run on.
#pragma once

#include "support/asio.hpp"

#include <tandem/runtime.hpp>

#include <map>
#include <memory>
#include <optional>
#include <thread>

namespace tandem::process {

class AsioEventLoop final : public EventLoop {
public:
    AsioEventLoop();
    ~AsioEventLoop() override;  // stops the thread, if it runs

    void run_thread();  // starts the loop's thread (once)
    void stop_thread();  // stops it and waits; queued tasks are dropped

    void post(Task task) override;
    TimerId after(Duration delay, Task task) override;
    void cancel(TimerId timer) override;
    std::chrono::steady_clock::time_point now() const override;
    bool on_loop_thread() const override;

    asio::io_context& io() { return io_; }

private:
    asio::io_context io_;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
    std::thread thread_;
    std::map<TimerId, std::unique_ptr<asio::steady_timer>> timers_;
    TimerId next_timer_ = 1;
};

}  // namespace tandem::process
