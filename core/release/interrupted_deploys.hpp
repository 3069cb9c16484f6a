// An engine that dies during a deploy (a crash, an out-of-memory kill, a SIGKILL) leaves the
// commit it was deploying recorded in releases.json. The next start counts it; when
// kMaxInterruptedDeploys engines in a row died deploying the same commit, that commit is
// refused (audited, named, shown in status) instead of being tried, and died on, forever.
#pragma once

#include "release/release_state.hpp"

#include <string>

namespace tandem::release {

inline constexpr int kMaxInterruptedDeploys = 3;

// Records `commit` as being deployed, durably, for as long as it lives. Only the outermost
// mark counts: a revert runs inside the deploy that failed, and a crash in it is that deploy's.
class DeployingMark {
public:
    DeployingMark(ReleaseLoop::State& s, const std::string& commit);
    ~DeployingMark();
    DeployingMark(const DeployingMark&) = delete;
    DeployingMark& operator=(const DeployingMark&) = delete;

private:
    ReleaseLoop::State& s_;
    std::string commit_;
    bool outermost_ = false;
};

// At start, before anything is deployed: counts a deploy the previous engine did not finish,
// and at the kMaxInterruptedDeploys-th in a row of one commit refuses that commit.
void count_interrupted_deploy(ReleaseLoop::State& s);

}  // namespace tandem::release
