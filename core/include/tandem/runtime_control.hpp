// The control socket's answers that every engine gives alike, from its Executor: service
// status, logs and their followers, and `down`. LoopControl (devloop) and ReleaseControl
// (shipper) add what their loops do.
#pragma once

#include <tandem/control.hpp>
#include <tandem/executor.hpp>
#include <tandem/spec.hpp>

#include <atomic>
#include <functional>
#include <memory>

namespace tandem {

class LogFollowers;

class RuntimeControl : public ControlHandler {
public:
    // `on_down` is called (on a server thread) when a client asks the engine to stop.
    RuntimeControl(Executor& runtime, std::function<void()> on_down);
    ~RuntimeControl() override;

    // Feed every runtime event here so that followers of a service's logs get its lines.
    void publish(const RuntimeEvent& event);

    std::vector<ServiceStatus> status() override;
    std::vector<std::string> logs(const std::string& service, std::size_t count) override;
    int follow_logs(const std::string& service, std::function<void(const std::string&)> sink) override;
    void unfollow(int id) override;
    Status down() override;
    PreviewControl* previews() override { return previews_; }
    // Serve these previews too (null: none); they must outlive the transports that ask.
    void attach_previews(PreviewControl* previews) { previews_ = previews; }

protected:
    // What `spec` rules out per service: a reset of a service with no reset command and no state.
    static ServiceRefusals refusals_of(const Spec& spec);

    Executor& runtime_;

private:
    std::function<void()> on_down_;
    std::unique_ptr<LogFollowers> followers_;
    std::atomic<PreviewControl*> previews_{nullptr};
};

}  // namespace tandem
