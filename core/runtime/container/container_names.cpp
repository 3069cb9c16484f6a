// Names and labels of the Docker runtime's objects (container_names.hpp).
#include "runtime/container/container_names.hpp"

#include "support/sha256.hpp"

#include <fmt/format.h>

#include <cctype>
#include <random>

namespace tandem::container {

std::string docker_name_part(std::string_view text) {
    std::string out;
    for (const char raw : text) {
        const auto c = static_cast<unsigned char>(std::tolower(static_cast<unsigned char>(raw)));
        const bool plain = std::isalnum(c) || c == '_' || c == '.' || c == '-';
        if (plain) out += static_cast<char>(c);
        else if (!out.empty() && out.back() != '-') out += '-';
    }
    while (!out.empty() && !std::isalnum(static_cast<unsigned char>(out.front()))) out.erase(0, 1);
    while (!out.empty() && out.back() == '-') out.pop_back();
    return out.empty() ? "tandem" : out;
}

namespace {

std::string random_hex(std::size_t digits) {
    std::random_device device;
    std::string out;
    while (out.size() < digits) out += fmt::format("{:08x}", device());
    return out.substr(0, digits);
}

}  // namespace

Names::Names(const std::string& project, const std::filesystem::path& state_dir, docker::Labels extra)
    : extra_(std::move(extra)) {
    std::error_code ec;
    auto absolute = std::filesystem::absolute(state_dir, ec).lexically_normal();
    if (!absolute.has_filename() && absolute.has_relative_path()) absolute = absolute.parent_path();
    engine_ = absolute.string();
    project_ = docker_name_part(project.empty() ? absolute.parent_path().filename().string() : project);
    engine_hash_ = sha256_hex(engine_).substr(0, 8);
    run_ = random_hex(6);
}

void Names::set_project(const std::string& project) {
    // Without `project:`, a spec is named after its directory; a release's is its commit id,
    // which names nothing for people: the name given at construction (the repository's) stays.
    const bool commit_id = (project.size() == 40 || project.size() == 64) &&
                           project.find_first_not_of("0123456789abcdef") == std::string::npos;
    if (!project.empty() && !commit_id) project_ = docker_name_part(project);
}

std::string Names::network() const { return fmt::format("{}-{}", project_, engine_hash_); }

std::string Names::container(const std::string& service, int replica) const {
    return fmt::format("{}-{}-{}-{}", project_, docker_name_part(service), replica, run_);
}

std::string Names::command(const std::string& service, std::string_view kind, int id) const {
    return fmt::format("{}-{}-{}-{}-{}", project_, docker_name_part(service), kind, id, run_);
}

std::string Names::volume(const std::string& name) const { return fmt::format("{}_{}", project_, name); }

std::string Names::image_tag(const std::string& service) const {
    return fmt::format("{}-{}:tandem", project_, docker_name_part(service));
}

docker::Labels Names::engine_labels() const {
    docker::Labels out = extra_;
    out[project_label] = project_;
    out[engine_label] = engine_;
    return out;
}

docker::Labels Names::owner_labels() const {
    docker::Labels out = extra_;
    out[engine_label] = engine_;
    return out;
}

docker::Labels Names::labels(const std::string& service, const std::string& replica) const {
    docker::Labels out = engine_labels();
    out[run_label] = run_;
    out[service_label] = service;
    out[replica_label] = replica;
    return out;
}

}  // namespace tandem::container
