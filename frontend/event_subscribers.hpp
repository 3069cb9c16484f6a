// Where an engine's runtime events go besides the terminal: the control socket's log followers
// and the HTTP API's streams. Attached once each is up, detached before they go: an event
// being handed over finishes first, so neither is used after it is destroyed.
#pragma once

#include "frontend/api_client.hpp"

#include <tandem/http_api.hpp>
#include <tandem/runtime_control.hpp>

#include <filesystem>
#include <mutex>

namespace tandem::cli {

class EventSubscribers {
public:
    void publish(const RuntimeEvent& event) {
        std::lock_guard lock(mutex_);
        if (control_) control_->publish(event);
        if (api_) api_->publish(event);
    }

    void attach(RuntimeControl& control) {
        std::lock_guard lock(mutex_);
        control_ = &control;
    }

    // Also records the API's address and local token in `state_dir` for the CLI.
    void attach(HttpApi* api, const std::filesystem::path& state_dir, const std::string& local_token) {
        if (api) record_api_address(state_dir, api->port(), local_token);
        std::lock_guard lock(mutex_);
        api_ = api;
        state_dir_ = state_dir;
    }

    // Before the control server and the API are destroyed.
    void detach() {
        std::lock_guard lock(mutex_);
        if (api_) forget_api_address(state_dir_);
        control_ = nullptr;
        api_ = nullptr;
    }

private:
    std::mutex mutex_;
    RuntimeControl* control_ = nullptr;
    HttpApi* api_ = nullptr;
    std::filesystem::path state_dir_;
};

}  // namespace tandem::cli
