// An EventLoop on an Asio io_context: posts and steady timers, a cancelled timer never fires.
#include "runtime/process/asio_event_loop.hpp"

namespace tandem::process {

AsioEventLoop::AsioEventLoop() : work_(asio::make_work_guard(io_)) {}

AsioEventLoop::~AsioEventLoop() { stop_thread(); }

void AsioEventLoop::run_thread() {
    if (thread_.joinable()) return;
    thread_ = std::thread([this] { io_.run(); });
}

void AsioEventLoop::stop_thread() {
    work_.reset();
    io_.stop();
    if (thread_.joinable()) thread_.join();
}

void AsioEventLoop::post(Task task) { asio::post(io_, std::move(task)); }

EventLoop::TimerId AsioEventLoop::after(Duration delay, Task task) {
    const TimerId id = next_timer_++;
    auto timer = std::make_unique<asio::steady_timer>(io_, delay);
    timer->async_wait([this, id, task = std::move(task)](const boost::system::error_code& ec) {
        auto it = timers_.find(id);
        if (ec || it == timers_.end()) return;  // cancelled, even if it was already due
        timers_.erase(it);
        task();
    });
    timers_.emplace(id, std::move(timer));
    return id;
}

void AsioEventLoop::cancel(TimerId timer) {
    auto it = timers_.find(timer);
    if (it == timers_.end()) return;
    it->second->cancel();  // its handler runs once more, finds no entry and does nothing
    timers_.erase(it);
}

std::chrono::steady_clock::time_point AsioEventLoop::now() const { return std::chrono::steady_clock::now(); }

bool AsioEventLoop::on_loop_thread() const { return thread_.get_id() == std::this_thread::get_id(); }

}  // namespace tandem::process
