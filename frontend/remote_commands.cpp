// The commands of the engine's operations: operands in, one call to the running engine, its
// reply printed. Each operation's printer is below; one without a printer prints its document.
#include "frontend/remote_commands.hpp"

#include "frontend/output.hpp"
#include "frontend/release_commands.hpp"

#include <tandem/utc_time.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <iostream>
#include <map>

namespace tandem::cli {

namespace {

using nlohmann::json;

std::string upper(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

std::string pad(const std::string& text, std::size_t width) {
    return text.size() >= width ? text + " " : text + std::string(width - text.size(), ' ');
}

void print_status_table(const StatusReply& reply) {
    std::size_t name_width = 8;
    bool artifacts = false;
    for (const auto& s : reply.services) {
        name_width = std::max(name_width, s.name.size() + 2);
        artifacts = artifacts || !s.artifact_digest.empty();
    }
    std::cout << pad("SERVICE", name_width) << pad("STATE", 10) << pad("REPLICAS", 10) << pad("PORT", 7)
              << pad("RESTARTS", 10) << (artifacts ? pad("ARTIFACT", 17) : "") << "LAST ERROR\n";
    for (const auto& s : reply.services) {
        int ready = 0;
        for (const auto& r : s.replicas)
            if (r.routed && r.health != Health::unhealthy) ++ready;
        std::cout << pad(s.name, name_width) << pad(to_string(s.state), 10)
                  << pad(std::to_string(ready) + "/" + std::to_string(s.replicas.size()), 10)
                  << pad(s.port ? std::to_string(s.port) : "-", 7) << pad(std::to_string(s.restarts), 10);
        if (artifacts) std::cout << pad(s.artifact_digest.empty() ? "-" : s.artifact_digest.substr(0, 15), 17);
        std::cout << (s.last_error.empty() ? "-" : s.last_error) << "\n";
    }
    // A service that is down shows why, as its own last lines said it (as Tilt does).
    for (const auto& s : reply.services) {
        if (s.crash_lines.empty() || s.state == ServiceState::ready || s.state == ServiceState::completed) continue;
        std::cout << "\n" << s.name << ": last output of the crashed replica\n";
        const std::size_t first = s.crash_lines.size() > 10 ? s.crash_lines.size() - 10 : 0;
        for (std::size_t i = first; i < s.crash_lines.size(); ++i) std::cout << "  | " << s.crash_lines[i] << "\n";
    }
    std::cout << "policy: " << reply.policy << "\n";
}

// A document's printer: returns the exit code (1 for an outcome that failed or was refused).
using Printer = int (*)(const std::string& document, const ControlRequest& request, const Options& options,
                       const ToolDefaults& tool);

int print_status(const std::string& document, const ControlRequest&, const Options& options, const ToolDefaults& tool) {
    auto reply = status_from_json(document);
    if (!reply) return report_error(reply.error(), options, tool);
    const json j = json::parse(document);
    if (options.output == OutputFormat::json) {
        std::cout << j.dump(2) << "\n";
        return 0;
    }
    // A git engine says what it has deployed first.
    if (j.contains("release") && j["release"].is_object()) print_release_status(j["release"].dump(), options);
    print_status_table(*reply);
    return 0;
}

// down, reset, trigger and restart: a sentence (or {"ok": true}) saying it is done.
int print_done(const std::string&, const ControlRequest& request, const Options& options, const ToolDefaults&) {
    static const std::map<std::string, std::string> kDone = {{"reset", ": reset done"},
                                                             {"trigger", ": rebuilt and restarted"},
                                                             {"restart", ": restarted"}};
    if (options.output == OutputFormat::json) std::cout << "{\"ok\": true}\n";
    else if (request.command == "down") std::cout << "the engine is stopping every service\n";
    else std::cout << request.service << kDone.at(request.command) << "\n";
    return 0;
}

// A sync's or rollback's outcome; exit code 1 when it failed or was refused.
int print_outcome(const std::string& document, const ControlRequest&, const Options& options, const ToolDefaults&) {
    const json outcome = json::parse(document, nullptr, false);
    const std::string result = outcome.value("outcome", "");
    if (options.output == OutputFormat::json) std::cout << outcome.dump(2) << "\n";
    else {
        std::cout << outcome.value("event", "") << " " << outcome.value("commit", "").substr(0, 12) << ": " << result;
        const std::string message = outcome.value("message", "");
        std::cout << (message.empty() ? "" : " - " + message) << "\n";
    }
    return result == "failed" || result == "refused" ? 1 : 0;
}

int print_diff(const std::string& document, const ControlRequest&, const Options& options, const ToolDefaults&) {
    const json reply = json::parse(document, nullptr, false);
    if (options.output == OutputFormat::json) std::cout << reply.value("plan", json::object()).dump(2) << "\n";
    else std::cout << reply.value("table", "");
    return 0;
}

// "3m", "2h", "5d": how long ago an ISO time was, for the previews table.
std::string age_of(const std::string& iso) {
    const auto then = parse_utc(iso);
    if (!then) return "-";
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() - *then).count();
    if (seconds < 120) return std::to_string(std::max<long long>(seconds, 0)) + "s";
    if (seconds < 7200) return std::to_string(seconds / 60) + "m";
    if (seconds < 172800) return std::to_string(seconds / 3600) + "h";
    return std::to_string(seconds / 86400) + "d";
}

// One line per preview: name, branch, state, URL, commit, age (since its last push).
int print_previews(const std::string& document, const ControlRequest&, const Options& options, const ToolDefaults&) {
    const json list = json::parse(document, nullptr, false);
    if (options.output == OutputFormat::json || !list.is_array()) {
        std::cout << list.dump(2) << "\n";
        return 0;
    }
    if (list.empty()) {
        std::cout << "no deploy previews: no branch matches the patterns (given by --previews PATTERN or by previews:\n"
                     "in the main branch's tandem.yaml)\n";
        return 0;
    }
    std::size_t name_width = 9, branch_width = 8, url_width = 5;
    for (const auto& p : list) {
        name_width = std::max(name_width, p.value("name", "").size() + 2);
        branch_width = std::max(branch_width, p.value("branch", "").size() + 2);
        url_width = std::max(url_width, p.value("url", "").size() + 2);
    }
    std::cout << pad("PREVIEW", name_width) << pad("BRANCH", branch_width) << pad("STATE", 11) << pad("URL", url_width)
              << pad("COMMIT", 14) << pad("AGE", 6) << "WHY\n";
    for (const auto& p : list) {
        const std::string url = p.value("url", "");
        std::cout << pad(p.value("name", ""), name_width) << pad(p.value("branch", ""), branch_width)
                  << pad(p.value("state", ""), 11) << pad(url.empty() ? "-" : url, url_width)
                  << pad(p.value("commit", "").substr(0, 12), 14) << pad(age_of(p.value("pushed", "")), 6)
                  << (p.value("why", "").empty() ? "-" : p.value("why", "")) << "\n";
    }
    return 0;
}

int print_document(const std::string& document, const ControlRequest&, const Options&, const ToolDefaults&) {
    std::cout << json::parse(document, nullptr, false).dump(2) << "\n";
    return 0;
}

Printer printer_of(std::string_view operation) {
    static const std::map<std::string_view, Printer> kPrinters = {
        {"status", print_status}, {"down", print_done},       {"reset", print_done},
        {"trigger", print_done},  {"restart", print_done},    {"sync", print_outcome},
        {"rollback", print_outcome}, {"diff", print_diff},     {"previews", print_previews}};
    const auto it = kPrinters.find(operation);
    return it == kPrinters.end() ? print_document : it->second;
}

// A log line as it comes: the JSON line, or its text.
void print_line(const std::string& item, const Options& options) {
    if (options.output == OutputFormat::json) {
        std::cout << item << std::endl;
        return;
    }
    const auto j = json::parse(item, nullptr, false);
    if (j.is_object() && j.contains("line") && j["line"].is_string()) std::cout << j["line"].get<std::string>() << std::endl;
}

// The operands (SERVICE, then REVISION: the text arguments, in the row's order) as the
// request's arguments; a usage error names what the command takes.
Status read_operands(const EngineOperation& operation, const Options& options, ControlRequest& request) {
    std::vector<const OperationArgument*> positional;
    std::size_t required = 0;
    for (const auto& argument : operation.arguments)
        if (argument.type == OperationArgument::Type::text) {
            positional.push_back(&argument);
            required += argument.required ? 1 : 0;
        }
    const std::size_t given = options.operands.size();
    if (given < required || given > positional.size()) {
        std::string takes = required == positional.size() ? " takes one" : " takes at most one";
        for (const auto* argument : positional) takes += " " + upper(argument->name);
        return make_error(ErrorCode::usage, std::string(operation.name) + takes +
                                                (given == 0 ? "" : ", got " + std::to_string(given)));
    }
    for (std::size_t i = 0; i < given; ++i)
        (positional[i]->name == "service" ? request.service : request.revision) = options.operands[i];
    return Ok{};
}

}  // namespace

std::string operation_usage(const EngineOperation& operation) {
    std::string usage;
    for (const auto& argument : operation.arguments) {
        if (argument.type != OperationArgument::Type::text) continue;
        const std::string name = upper(argument.name);
        usage += (usage.empty() ? "" : " ") + (argument.required ? name : "[" + name + "]");
    }
    return usage;
}

int operation_command(const EngineOperation& operation, const Options& options, const ToolDefaults& tool) {
    ControlRequest request;
    request.command = std::string(operation.name);
    request.tail = options.tail;
    request.follow = options.follow;
    if (auto read = read_operands(operation, options, request); !read) return report_error(read.error(), options, tool);
    const bool lines = operation.reply == EngineOperation::Reply::lines;
    std::string document;
    auto called = call_operation(operation, request, options, tool, [&](const std::string& item) {
        if (lines) print_line(item, options);
        else document = item;
    });
    if (!called) return report_error(called.error(), options, tool);
    return lines ? 0 : printer_of(operation.name)(document, request, options, tool);
}

}  // namespace tandem::cli
