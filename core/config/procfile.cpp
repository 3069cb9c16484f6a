// A Procfile as the tandem.yaml it means (procfile.hpp): foreman's lines, names and ports.
#include "config/procfile.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace tandem::config {

namespace {

constexpr int kDefaultBasePort = 5000;
constexpr int kPortStep = 100;

struct Process {
    std::string written;  // the name as the Procfile spells it
    std::string name;     // lowercased: the service's name
    std::string command;
    int line = 0;
};

bool name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'; }
bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool blank(char c) { return c == ' ' || c == '\t'; }

std::string lowercase(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

// `$PORT` or `${PORT...}`, not `$PORTAL`.
bool mentions_port(std::string_view command) {
    for (std::size_t at = command.find('$'); at != std::string_view::npos; at = command.find('$', at + 1)) {
        std::string_view rest = command.substr(at + 1);
        if (!rest.empty() && rest.front() == '{') rest.remove_prefix(1);
        if (rest.substr(0, 4) == "PORT" && (rest.size() == 4 || !word_char(rest[4]))) return true;
    }
    return false;
}

// One `name: command` line (comments and blank lines already skipped); `indent` is where the
// name starts.
Result<Process> read_line(std::string_view line, std::size_t indent, int number, const std::string& file,
                          const std::vector<Process>& before) {
    auto at = [&](std::size_t offset) { return SourceLocation{file, number, static_cast<int>(offset) + 1}; };
    std::size_t colon = indent;
    while (colon < line.size() && name_char(line[colon])) ++colon;
    if (colon == indent || colon == line.size() || line[colon] != ':')
        return make_error(ErrorCode::syntax,
                          fmt::format("expected 'name: command' (a name of letters, digits, '_' and '-', then ':'), "
                                      "found '{}'",
                                      line.substr(indent)),
                          at(indent));
    Process process{std::string(line.substr(indent, colon - indent)), {}, {}, number};
    process.name = lowercase(process.written);
    if (!std::isalnum(static_cast<unsigned char>(process.name.front())))
        return make_error(ErrorCode::invalid_value,
                          fmt::format("process name '{}' must start with a letter or a digit (a tandem service name)",
                                      process.written),
                          at(indent));
    for (const Process& earlier : before) {
        if (earlier.name != process.name) continue;
        if (earlier.written == process.written)
            return make_error(ErrorCode::duplicate,
                              fmt::format("process '{}' is already defined at line {}", process.written, earlier.line),
                              at(indent));
        return make_error(ErrorCode::duplicate,
                          fmt::format("process '{}' is service '{}' in tandem, like '{}' at line {} (names are "
                                      "lowercased)",
                                      process.written, process.name, earlier.written, earlier.line),
                          at(indent));
    }
    std::size_t start = colon + 1;
    while (start < line.size() && blank(line[start])) ++start;
    if (start == line.size())
        return make_error(ErrorCode::invalid_value, fmt::format("process '{}' has no command", process.written),
                          at(start));
    process.command = std::string(line.substr(start));
    return process;
}

Result<std::vector<Process>> read_processes(std::string_view text, const std::string& file) {
    std::vector<Process> processes;
    int number = 0;
    std::size_t begin = 0;
    while (begin < text.size()) {
        std::size_t end = text.find('\n', begin);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = text.substr(begin, end - begin);
        begin = end + 1;
        ++number;
        while (!line.empty() && (blank(line.back()) || line.back() == '\r')) line.remove_suffix(1);
        std::size_t indent = 0;
        while (indent < line.size() && blank(line[indent])) ++indent;
        if (indent == line.size() || line[indent] == '#') continue;
        auto process = read_line(line, indent, number, file, processes);
        if (!process) return process.error();
        processes.push_back(std::move(*process));
    }
    if (processes.empty())
        return make_error(ErrorCode::invalid_value,
                          fmt::format("{} defines no processes (each is a 'name: command' line)", file));
    return processes;
}

// PORT of the environment, else of .env, else 5000.
Result<int> base_port(const std::map<std::string, std::string>& dotenv,
                      const std::function<std::optional<std::string>(const std::string&)>& environment) {
    std::optional<std::string> value = environment ? environment("PORT") : std::nullopt;
    SourceLocation where;
    std::string from = " in the environment";
    if (!value) {
        const auto it = dotenv.find("PORT");
        if (it == dotenv.end()) return kDefaultBasePort;
        value = it->second;
        where = SourceLocation{".env"};
        from.clear();
    }
    const bool digits = !value->empty() && value->size() <= 5 &&
                        std::all_of(value->begin(), value->end(), [](unsigned char c) { return std::isdigit(c); });
    const int port = digits ? std::stoi(*value) : 0;
    if (port < 1 || port > 65535)
        return make_error(ErrorCode::invalid_value,
                          fmt::format("PORT{} is '{}': the Procfile's base port must be a number from 1 to 65535",
                                      from, *value),
                          where);
    return port;
}

}  // namespace

Result<ProcfileDocument> procfile_document(
    std::string_view text, const std::string& file, const std::map<std::string, std::string>& dotenv,
    const std::function<std::optional<std::string>(const std::string&)>& environment) {
    auto processes = read_processes(text, file);
    if (!processes) return processes.error();
    auto base = base_port(dotenv, environment);
    if (!base) return base.error();
    for (const auto& [name, value] : dotenv) {
        if (name == "PORT" || value.find("${") == std::string::npos) continue;
        return make_error(ErrorCode::invalid_value,
                          fmt::format("the value of {} holds '${{', which a tandem env value cannot carry (tandem "
                                      "reads ${{...}} as its own variables: ${{port}}, ${{services.NAME.port}}, ...)",
                                      name),
                          SourceLocation{".env"});
    }

    ProcfileDocument out;
    out.document["version"] = 1;
    YAML::Node services(YAML::NodeType::Map);
    for (std::size_t i = 0; i < processes->size(); ++i) {
        const Process& process = (*processes)[i];
        const int port = *base + kPortStep * static_cast<int>(i);
        if (port > 65535)
            return make_error(ErrorCode::invalid_value,
                              fmt::format("process '{}' would get port {} (base {} + {} per process before it), "
                                          "above 65535: set a lower PORT",
                                          process.written, port, *base, kPortStep),
                              SourceLocation{file, process.line, 1});
        const bool routed = process.name == "web" || mentions_port(process.command);
        YAML::Node service(YAML::NodeType::Map);
        service["run"] = process.command;
        if (routed) service["port"] = port;
        YAML::Node env(YAML::NodeType::Map);
        if (!routed) env["PORT"] = std::to_string(port);
        for (const auto& [name, value] : dotenv)
            if (name != "PORT") env[name] = value;
        if (env.size() > 0) service["env"] = env;
        services[process.name] = service;
    }
    out.document["services"] = services;
    return out;
}

}  // namespace tandem::config
