// Prometheus text format for the engine: see docs/http-api.md's table of metrics.
#include "http/metrics.hpp"

#include <cstdio>

namespace tandem::http {

namespace {

// A label value with \, " and newlines escaped.
std::string label(std::string_view value) {
    std::string out;
    for (char c : value) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

std::string number(double value) {
    char text[32];
    std::snprintf(text, sizeof text, "%.15g", value);
    return text;
}

void header(std::string& out, const char* name, const char* type, const char* help) {
    out.append("# HELP ").append(name).append(" ").append(help).append("\n");
    out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

template <class Value>
void sample(std::string& out, std::string_view name, const std::string& labels, Value value) {
    out.append(name);
    if (!labels.empty()) out.append("{").append(labels).append("}");
    out.append(" ").append(std::to_string(value)).append("\n");
}

std::string service_label(const std::string& service) { return "service=\"" + label(service) + "\""; }

bool is_rollout(ActionKind action) { return action == ActionKind::start || action == ActionKind::replace; }

}  // namespace

void Metrics::Histogram::add(double seconds) {
    for (std::size_t i = 0; i < kBounds.size(); ++i)
        if (seconds <= kBounds[i]) ++buckets[i];
    ++count;
    sum += seconds;
}

void Metrics::observe(const RuntimeEvent& event) {
    if (!event.action || event.outcome == ActionOutcome::none || event.outcome == ActionOutcome::started) return;
    const bool build = *event.action == ActionKind::build;
    if (!build && !is_rollout(*event.action)) return;
    std::lock_guard lock(mutex_);
    if (!build) ++rollouts_[{event.service, to_string(event.outcome)}];
    if (event.elapsed.count() < 0) return;
    const double seconds = static_cast<double>(event.elapsed.count()) / 1000.0;
    (build ? builds_ : rollout_durations_)[event.service].add(seconds);
}

void Metrics::count_request(int status) {
    std::lock_guard lock(mutex_);
    ++requests_[status];
}

void Metrics::render_histograms(std::string& out, const char* name, const char* help,
                                const std::map<std::string, Histogram>& histograms) const {
    header(out, name, "histogram", help);
    const std::string base(name);
    for (const auto& [service, h] : histograms) {
        const std::string who = service_label(service);
        for (std::size_t i = 0; i < Histogram::kBounds.size(); ++i)
            sample(out, base + "_bucket", who + ",le=\"" + number(Histogram::kBounds[i]) + "\"", h.buckets[i]);
        sample(out, base + "_bucket", who + ",le=\"+Inf\"", h.count);
        out.append(base).append("_sum{").append(who).append("} ").append(number(h.sum)).append("\n");
        sample(out, base + "_count", who, h.count);
    }
}

std::string Metrics::render(const std::vector<ServiceStatus>& services, const ControlHandler::Counters& counters) const {
    std::string out;
    header(out, "tandem_reconciles_total", "counter", "Plans carried out (devloop passes, shipper deploys).");
    sample(out, "tandem_reconciles_total", "", counters.reconciles);
    header(out, "tandem_audit_records_total", "counter", "Audit records appended since start.");
    sample(out, "tandem_audit_records_total", "", counters.audit_records);
    std::lock_guard lock(mutex_);
    header(out, "tandem_rollouts_total", "counter", "Start and replace actions by outcome.");
    for (const auto& [key, count] : rollouts_)
        sample(out, "tandem_rollouts_total", service_label(key.first) + ",outcome=\"" + label(key.second) + "\"", count);
    render_histograms(out, "tandem_build_duration_seconds", "Builds, by how long they took.", builds_);
    render_histograms(out, "tandem_rollout_duration_seconds", "Start and replace actions, by how long they took.",
                      rollout_durations_);
    header(out, "tandem_service_restarts", "gauge", "Crash restarts since the service was last started by a plan.");
    for (const auto& s : services) sample(out, "tandem_service_restarts", service_label(s.name), s.restarts);
    header(out, "tandem_service_ready_replicas", "gauge", "Replicas taking traffic.");
    for (const auto& s : services) {
        int ready = 0;
        for (const auto& r : s.replicas) ready += r.routed && r.health != Health::unhealthy ? 1 : 0;
        sample(out, "tandem_service_ready_replicas", service_label(s.name), ready);
    }
    header(out, "tandem_service_errors_total", "counter", "Errors of a service's replicas since the runtime started.");
    for (const auto& s : services) {
        const std::pair<const char*, int> kinds[] = {{"crashes", s.errors.crashes},
                                                     {"probe_failures", s.errors.probe_failures},
                                                     {"failed_gates", s.errors.failed_gates},
                                                     {"proxy_errors", s.errors.proxy_errors}};
        for (const auto& [kind, count] : kinds)
            sample(out, "tandem_service_errors_total", service_label(s.name) + ",kind=\"" + kind + "\"", count);
    }
    header(out, "tandem_proxy_connections_total", "counter", "Client connections a service's proxy accepted.");
    for (const auto& s : services) sample(out, "tandem_proxy_connections_total", service_label(s.name), s.proxy_connections);
    header(out, "tandem_http_requests_total", "counter", "API requests by status code.");
    for (const auto& [code, count] : requests_)
        sample(out, "tandem_http_requests_total", "code=\"" + std::to_string(code) + "\"", count);
    return out;
}

}  // namespace tandem::http
