// The parts of a plan's execution that touch what its services keep on the machine: their
// users and state directories, set up before the first action, and the reset of a service.
#include "execute/plan_execution.hpp"

namespace tandem::execute {

Status PlanExecution::set_up_services() {
    for (const Wave& wave : plan_.waves)
        for (const Step& step : wave.steps) {
            const ServiceSpec* service = spec_.find(step.service);
            if (!service || setups_.count(service->name)) continue;  // a removed service is only stopped
            auto setup = set_up_service(spec_, *service, context_.state_root);
            if (!setup) return setup.error();
            setups_.emplace(service->name, std::move(*setup));
        }
    return Ok{};
}

const ServiceSetup* PlanExecution::setup_of(const std::string& service) const {
    auto it = setups_.find(service);
    return it == setups_.end() ? nullptr : &it->second;
}

void PlanExecution::reset_service(const Action& action, std::function<void(Status)> done) {
    auto self = shared_from_this();
    auto stopped = [self, action, done] {
        // Stopped and not started again by this plan: the next plan starts it as a new service.
        auto fail = [&](const Error& error) {
            self->context_.forget(action.service);
            done(error);
        };
        if (self->cancelled_) return fail(*self->failure_);
        const ServiceSpec* service = self->spec_.find(action.service);
        if (!service) return fail(make_error(ErrorCode::unknown_service, "'" + action.service + "' is not in the spec"));
        if (auto emptied = empty_state(*service, self->context_.state_root); !emptied) return fail(emptied.error());
        if (action.command.empty() && !service->container) return done(Ok{});  // a container's runtime empties its volumes
        self->run_command(action, [self, name = action.service, done](Status status) {
            if (!status) self->context_.forget(name);
            done(status);
        });
    };
    context_.supervisor(action.service)->stop(stopped);
}

}  // namespace tandem::execute
