// The release loop's audit trail: the log of the policy in force, opened only when its chain
// verifies, and signed checkpoints of its head.
#include "release/release_state.hpp"

namespace tandem {

Status ReleaseLoop::State::open_audit(const PolicySet& policy) {
    const auto path = options.state_dir / policy.audit.path;
    if (audit && audit->path() == path) return Ok{};
    audit.reset();  // unlock the old log before the new one is opened (they may be the same file)
    auto opened = AuditLog::open(path);
    if (!opened) return opened.error();
    audit = std::move(*opened);
    if (options.checkpoints && !checkpoints) {
        auto writer = AuditCheckpointWriter::open(*options.checkpoints);
        if (!writer) return writer.error();
        checkpoints = std::move(*writer);
    }
    checkpoint(1);
    return Ok{};
}

void ReleaseLoop::State::checkpoint(std::uint64_t every) {
    if (!audit || !checkpoints) return;
    const std::uint64_t seq = audit->last_seq();
    if (seq == 0 || seq < checkpoints->last_seq() + every) return;
    AuditCheckpoint point{seq, audit->last_hash(), std::chrono::system_clock::now(), audit->path().filename().string()};
    if (Status written = checkpoints->write(point); !written) {
        const std::string text = "audit checkpoint of seq " + std::to_string(seq) + " not written: " + written.error().to_string();
        {
            std::lock_guard lock(mutex);
            last_error = text;
        }
        emit(RuntimeEventKind::failure, text);
    }
}

Status ReleaseLoop::State::record(const PolicySet& policy, AuditEntry entry) {
    if (!policy.audit.enabled) return Ok{};
    std::lock_guard audit_lock(audit_mutex);
    if (Status opened = open_audit(policy); !opened) return opened.error();
    auto appended = audit->append(std::move(entry));
    if (!appended) return appended.error();
    {
        std::lock_guard lock(mutex);
        ++audit_records;
    }
    checkpoint(static_cast<std::uint64_t>(policy.audit.checkpoint_every));
    return Ok{};
}

void release::note_replicas(std::vector<AuditServiceChange>& changes, const std::vector<ServiceStatus>& status) {
    for (AuditServiceChange& change : changes) {
        if (change.change == "stop") continue;
        for (const ServiceStatus& service : status) {
            if (service.name != change.service) continue;
            for (const ReplicaStatus& replica : service.replicas)
                change.replicas.push_back(replica.handle + ": " + to_string(replica.health));
            if (!service.last_error.empty()) change.replicas.push_back("failed: " + service.last_error);
        }
    }
}

}  // namespace tandem
