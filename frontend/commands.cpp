// The subcommand table of the front-ends and each command's body: a call into the library,
// then printing.
#include "frontend/cli.hpp"
#include "frontend/options.hpp"
#include "frontend/output.hpp"
#include "frontend/project_input.hpp"
#include "frontend/release_commands.hpp"
#include "frontend/remote_commands.hpp"
#include "frontend/up.hpp"

#include <tandem/ignore.hpp>
#include <tandem/plan.hpp>
#include <tandem/version.hpp>

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <vector>

namespace tandem::cli {

namespace {

struct Command {
    std::string_view name;
    std::string usage;         // operands after the name
    std::string_view summary;  // one line for --help
    int (*body)(const Options&, const ToolDefaults&) = nullptr;
    const EngineOperation* operation = nullptr;  // set: the command asks the running engine to do it
    // The source the command line must read to have this command (run: git, up: disk); the
    // engine's operations are checked by the engine, against the source it runs.
    std::optional<SourceKind> source = std::nullopt;
    bool git = false;  // a command of a git source (help marks it)
};

// "`run` needs a git source, and this command line reads files on disk: give --repo ...".
Status check_source(const Command& command, const Options& options) {
    if (!command.source || *command.source == options.source) return Ok{};
    const std::string hint = *command.source == SourceKind::git
                                 ? "give --repo URL_OR_PATH (and --ref BRANCH; --source git for the repository holding -f)"
                                 : "add --source disk (without --repo)";
    return make_error(ErrorCode::usage, "`" + std::string(command.name) + "` needs a " + to_string(*command.source) +
                                            " source, and this command line reads " +
                                            (options.source == SourceKind::git ? "git" : "files on disk") + ": " + hint);
}

int validate_command(const Options& options, const ToolDefaults& tool) {
    auto input = load_input(options, tool);
    if (!input) return report_error(input.error(), options, tool);
    print_validation(std::cout, *input, options, tool);
    return 0;
}

// The project's equivalent tandem.yaml on stdout, or into FILE (never over a file that has
// something in it); warnings (what it could not take) on stderr.
int convert_command(const Options& options, const ToolDefaults& tool) {
    auto input = load_input(options, tool);
    if (!input) return report_error(input.error(), options, tool);
    auto text = convert_input(options, tool);
    if (!text) return report_error(text.error(), options, tool);
    if (options.operands.empty()) {
        std::cout << *text;
        return 0;
    }
    if (options.operands.size() > 1)
        return report_error(make_error(ErrorCode::usage, "convert takes one FILE to write"), options, tool);
    const std::filesystem::path out = options.operands.front();
    std::error_code ec;
    if (std::filesystem::exists(out, ec) && std::filesystem::file_size(out, ec) > 0)
        return report_error(make_error(ErrorCode::io, fmt::format("'{}' exists and is not empty: remove it or name "
                                                                  "another file",
                                                                  out.string())),
                            options, tool);
    const std::filesystem::path temporary = out.string() + ".converting";
    {
        std::ofstream file(temporary, std::ios::binary | std::ios::trunc);
        file << *text;
        if (!file.flush())
            return report_error(make_error(ErrorCode::io, fmt::format("cannot write '{}'", temporary.string())), options,
                                tool);
    }
    std::filesystem::rename(temporary, out, ec);
    if (ec)
        return report_error(make_error(ErrorCode::io, fmt::format("cannot write '{}': {}", out.string(), ec.message())),
                            options, tool);
    std::cout << "wrote " << out.string() << " from " << input->file << "\n";
    return 0;
}

int plan_command(const Options& options, const ToolDefaults& tool) {
    auto input = load_input(options, tool);
    if (!input) return report_error(input.error(), options, tool);
    auto observed = load_observed(options);
    if (!observed) return report_error(observed.error(), options, tool);
    PlanRequest request;
    request.changed_paths = options.changed;
    request.bootstrap = options.bootstrap;
    request.reset = options.reset;
    request.trigger = options.trigger;
    request.only = options.only;
    request.revision = input->revision;
    auto plan = make_plan(input->project.spec, *observed, input->project.policy, request);
    if (!plan) return report_error(plan.error(), options, tool);
    std::cout << (options.output == OutputFormat::json ? to_json(*plan) + "\n" : format_table(*plan));
    return 0;
}

int policies_command(const Options& options, const ToolDefaults& tool) {
    if (options.operands.size() > 1)
        return report_error(make_error(ErrorCode::usage, "policies takes at most one policy set name"), options, tool);
    auto input = load_input(options, tool);
    if (!input) return report_error(input.error(), options, tool);
    if (options.operands.empty()) {
        print_policy_sets(std::cout, *input, options);
        return 0;
    }
    auto status = print_policy_knobs(std::cout, *input, options.operands.front(), options);
    return status ? 0 : report_error(status.error(), options, tool);
}

// Which files count for the watcher, and with --ignored which do not and by which rule: the
// answer to "why did my save not trigger?".
int ls_watched_command(const Options& options, const ToolDefaults& tool) {
    const auto dir = std::filesystem::path(options.file).parent_path();
    auto rules = IgnoreRules::load(dir.empty() ? std::filesystem::path(".") : dir);
    if (!rules) return report_error(rules.error(), options, tool);
    const auto entries = list_tree(*rules, options.ignored);
    if (options.output == OutputFormat::json) {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& e : entries) {
            nlohmann::json j{{"path", e.path}, {"directory", e.is_directory}, {"ignored", e.match.ignored}};
            if (e.match.decided())
                j["rule"] = {{"source", e.match.source}, {"line", e.match.line}, {"pattern", e.match.pattern}};
            list.push_back(j);
        }
        std::cout << list.dump(2) << "\n";
        return 0;
    }
    for (const auto& e : entries) {
        std::cout << e.path << (e.is_directory ? "/" : "");
        if (e.match.ignored) {
            std::cout << "  ignored by " << e.match.source;
            if (e.match.line > 0) std::cout << ":" << e.match.line;
            std::cout << ": " << e.match.pattern;
        } else if (e.match.decided()) {
            std::cout << "  counted (re-included by " << e.match.source << ":" << e.match.line << ": " << e.match.pattern << ")";
        }
        std::cout << "\n";
    }
    return 0;
}

int version_command(const Options&, const ToolDefaults& tool) {
    std::cout << tool.program << " " << version() << "\n";
    return 0;
}

int help_command(const Options& options, const ToolDefaults& tool);

// An engine operation's command. History and audit are answered here, from the state
// directory, so that they work with the engine stopped too.
Command operation_command_row(const EngineOperation& operation) {
    if (operation.name == "history") return {"history", "", operation.summary, history_command, nullptr, {}, true};
    if (operation.name == "audit")
        return {"audit", "verify|show|repair",
                "check the audit log's hash chain (and its signed checkpoints), print its records, or record a break",
                audit_command, nullptr, {}, true};
    return {operation.name, operation_usage(operation), operation.summary, nullptr, &operation, {}, operation.git_only};
}

const std::vector<Command>& commands() {
    static const std::vector<Command> table = [] {
        std::vector<Command> t{
            {"validate", "", "check the project's file (tandem.yaml, compose file, Procfile) and its policy sets",
             validate_command},
            {"run", "",
             "follow --repo's --ref: deploy each new commit, one rollout at a time (audited where the policy "
             "audits), until Ctrl+C",
             run_command, nullptr, SourceKind::git, true},
            {"up", "", "bring every service up as local processes and keep them running until Ctrl+C", up_command,
             nullptr, SourceKind::disk},
        };
        for (const EngineOperation& operation : engine_operations()) t.push_back(operation_command_row(operation));
        const std::vector<Command> local{
            {"plan", "", "show what the engine would do to reach the spec, without doing it", plan_command},
            {"convert", "[FILE]", "print the project's compose file or Procfile as the equivalent tandem.yaml (or write FILE)",
             convert_command},
            {"ls-watched", "", "list the files a save of which counts (--ignored: and the ignored ones, with the rule)",
             ls_watched_command},
            {"policies", "[NAME]", "list the policy sets, or show every knob of one", policies_command},
            {"version", "", "print the version", version_command},
            {"help", "", "show this help", help_command},
        };
        t.insert(t.end(), local.begin(), local.end());
        return t;
    }();
    return table;
}

int help_command(const Options&, const ToolDefaults& tool) {
    std::cout << tool.program << " - " << tool.summary << "\n\nUsage: " << tool.program
              << " [options] COMMAND [operands]\n\nCommands:\n";
    for (const auto& c : commands()) {
        std::string head = std::string(c.name) + (c.usage.empty() ? "" : " " + c.usage);
        head.resize(std::max<std::size_t>(head.size() + 1, 18), ' ');
        std::cout << "  " << head << c.summary << (c.git ? " (git source)" : "") << "\n";
    }
    std::cout << "\nCommands marked (git source) need an engine that follows a git ref (`run --repo R --ref B`);\n"
                 "an engine that runs files on disk (`up`) refuses them with an error naming the command.\n\n"
              << options_help(tool);
    return 0;
}

}  // namespace

int run(int argc, char** argv, const ToolDefaults& tool) {
    std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
    auto options = parse_options(args, tool);
    if (!options) return report_error(options.error(), Options{}, tool);
    if (options->help) return help_command(*options, tool);
    if (options->version) return version_command(*options, tool);
    if (options->command.empty()) {
        help_command(*options, tool);
        return 2;
    }
    for (const auto& c : commands()) {
        if (c.name != options->command) continue;
        if (c.usage.empty() && !options->operands.empty())
            return report_error(make_error(ErrorCode::usage, std::string(c.name) + " takes no operand, got '" +
                                                                 options->operands.front() + "'"),
                                *options, tool);
        if (auto fits = check_source(c, *options); !fits) return report_error(fits.error(), *options, tool);
        return c.operation ? operation_command(*c.operation, *options, tool) : c.body(*options, tool);
    }
    std::string list;
    for (const auto& c : commands()) list += (list.empty() ? "" : ", ") + std::string(c.name);
    return report_error(make_error(ErrorCode::usage, "unknown command '" + options->command + "' (commands: " + list + ")"),
                        *options, tool);
}

}  // namespace tandem::cli
