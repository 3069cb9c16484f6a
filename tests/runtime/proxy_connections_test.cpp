// ServiceStatus::proxy_connections end to end: the client connections a service's proxy
// accepted, counted since the runtime started, across a new proxy for a new port.
#include <doctest/doctest.h>

#include "runtime/runtime_fixture.hpp"
#include "support/http_client.hpp"

using namespace std::chrono_literals;
using namespace tandem::test;  // the runtime fixture, http_get, eventually

namespace {

std::uint64_t connections_of(tandem::Executor& runtime) {
    const auto status = runtime.status();
    REQUIRE(status.size() == 1);
    return status[0].proxy_connections;
}

}  // namespace

TEST_CASE("proxy connections: each client connection counts, and the count survives a new proxy on another port") {
    const int port = free_port();
    int other_port = free_port();
    while (other_port == port) other_port = free_port();  // the kernel may hand the same one out twice
    Project project(service_yaml("api", port, "v1", 1), "wip");
    Events events;
    auto runtime = start_runtime(project.dir.path(), events);
    auto applied = plan_and_apply(*runtime, project.loaded);
    REQUIRE_MESSAGE(applied.ok(), applied.error().to_string());
    CHECK(connections_of(*runtime) == 0);

    CHECK(http_get(port, "/version")->body == "v1\n");
    CHECK(http_get(port, "/version")->body == "v1\n");
    CHECK(eventually([&] { return connections_of(*runtime) == 2; }, 2000ms));

    project.rewrite(service_yaml("api", other_port, "v2", 1), "wip");
    applied = plan_and_apply(*runtime, project.loaded);
    REQUIRE_MESSAGE(applied.ok(), applied.error().to_string());
    const auto answer = http_get(other_port, "/version");
    REQUIRE(answer.has_value());
    CHECK(answer->body == "v2\n");
    CHECK(eventually([&] { return connections_of(*runtime) == 3; }, 2000ms));
}
