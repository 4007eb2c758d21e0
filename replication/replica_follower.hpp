#pragma once
// A replica's side of replication (docs/REPLICATION.md): follows the stream in order and applies
// each message to this replica's own store in one transaction, with the stream sequence it came
// at (ReplicaPosition), so a crash replays nothing twice and skips nothing. A message whose
// signature does not verify is counted and never applied; one that cannot be applied (a gap in
// the journal, an unknown schema, an issuer the store holds under another id) stops the follower
// with the reason on /health, and nothing of it is applied.
//
// Freshness: the writer's heartbeat carries its latest committed sequences. The replica is
// caught up at a heartbeat's arrival when it has applied that much; when it has not been caught
// up for longer than max_staleness_seconds it stops vouching (OCSP tryLater, /health 503).
#include <atomic>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config/configuration.hpp"
#include "replication/feed_message.hpp"
#include "replication/feed_signature.hpp"
#include "revocation/clock.hpp"
#include "revocation/store.hpp"

namespace revocore::replication {

class StreamConnection;
struct StreamMessage;

// What /health and /metrics show of a replica.
struct ReplicaStatus {
  bool connected = false;
  bool fresh = false;                // vouching: caught up within max_staleness_seconds
  std::string problem;               // why not, for /health; empty when fresh
  ReplicaPosition applied;           // the last message applied
  std::uint64_t writer_journal = 0;  // from the newest heartbeat
  std::uint64_t writer_registrations = 0;
  // How long the replica has been behind: since the oldest heartbeat whose sequences it has not
  // applied arrived (0 when it has applied everything the newest heartbeat announced).
  double lag_seconds = 0;
  // Since the replica was last known caught up (the newest heartbeat it had applied): what
  // max_staleness_seconds is compared with, so it includes the time between heartbeats.
  double staleness_seconds = 0;
  std::uint64_t lag_sequences = 0;  // journal and registration sequences not yet applied
  std::uint64_t messages_applied = 0;
  std::uint64_t certificates_applied = 0;
  std::uint64_t messages_refused = 0;  // signature did not verify
  std::uint64_t heartbeats = 0;
  std::uint64_t crls_written = 0;
};

// A changes message that starts after what the replica has applied: something is missing from
// the stream. Recoverable from a newer snapshot.
class FeedGap : public Error {
 public:
  FeedGap(std::string message, std::uint64_t journal_from, std::uint64_t registrations_from)
      : Error(ErrorCode::kReplication, std::move(message)),
        journal_from(journal_from),
        registrations_from(registrations_from) {}
  std::uint64_t journal_from;
  std::uint64_t registrations_from;
};

// The replica's Prometheus lines: lag in seconds and sequences, messages applied and refused.
std::string render_metrics(const ReplicaStatus& status);

// Applies one verified, decoded stream message to the store in `txn`, moving `position`;
// throws kReplication, leaving `txn` for the caller to abandon, when it cannot be applied.
// Returns the certificates stored. Pure store logic: no NATS, so tests drive it directly.
std::uint64_t apply_feed_message(WriteTransaction& txn, const FeedMessage& message,
                                 std::uint64_t stream_sequence, ReplicaPosition& position);

class ReplicaFollower {
 public:
  // Loads the writer's public key (kInvalidConfig when it cannot be used). Does not connect.
  // Replicated CRLs are written to `crl_directory` under the writer's file names.
  ReplicaFollower(Store& store, const config::Configuration& config, Clock clock,
                  std::filesystem::path crl_directory);

  // Connects (retrying), follows the stream and the heartbeats until `stop` is set. Never throws.
  void run(const std::atomic<bool>& stop);

  // One message from the stream (or the heartbeat subject): verifies, decodes, applies. A refused
  // signature is counted and skipped; other failures throw kReplication. Returns the CRL part
  // when the message was the last part of a CRL (the caller then writes the file).
  std::optional<CrlPart> receive(std::string_view subject, std::string_view data,
                                 std::uint64_t stream_sequence, bool heartbeat);

  // Whether OCSP may vouch now: a relaxed atomic read on the hot path, kept up by run().
  bool fresh() const noexcept { return fresh_.load(std::memory_order_relaxed); }
  const std::atomic<bool>& fresh_flag() const noexcept { return fresh_; }
  ReplicaStatus status() const;
  // Waits until a heartbeat was seen and applied (so the writer's issuers are in the store), or
  // `stop`; false when stopped. For `serve`, before it loads the configured issuers.
  bool wait_until_caught_up(const std::atomic<bool>& stop) const;
  // Issuers configured here that the writer does not publish: reported on /health.
  void set_missing_issuers(std::vector<std::string> names);

 private:
  void update_freshness();
  void follow(StreamConnection& stream, const std::atomic<bool>& stop);
  // A message read back from the stream by the API, decoded when its signature verifies.
  std::optional<FeedMessage> read_verified(const std::optional<StreamMessage>& message) const;
  void resync_after_gap(StreamConnection& stream, const FeedGap& gap);
  // Reads the CRL's earlier parts back from the stream (they precede its last one) and writes
  // the file; a part missing or of another CRL leaves the previous file (a newer CRL follows).
  void write_replicated_crl(StreamConnection& stream, const CrlPart& last,
                            std::uint64_t last_sequence);
  // At start: every CRL in the stream that is not in crl_directory (a fresh replica, or one that
  // stopped between a CRL's last part and its file).
  void reconcile_crls(StreamConnection& stream);
  // The writer's <issuer>-shards.json in crl_directory, unless it is there already.
  void write_replicated_shard_list(const CrlPart& list);

  Store& store_;
  const config::ReplicaSettings& settings_;
  Clock clock_;
  std::filesystem::path crl_directory_;
  FeedVerifier verifier_;
  std::atomic<bool> fresh_{false};

  mutable std::mutex mutex_;
  ReplicaStatus status_;
  std::string stopped_;  // a message that could not be applied: why
  std::vector<std::string> missing_issuers_;
  // When the replica was last known caught up: the arrival (steady ms) of the newest heartbeat
  // whose sequences it has applied; and the heartbeats not yet caught up with, oldest first.
  std::optional<std::int64_t> caught_up_at_ms_;
  struct PendingHeartbeat {
    std::uint64_t journal = 0;
    std::uint64_t registrations = 0;
    std::int64_t arrived_ms = 0;
  };
  std::deque<PendingHeartbeat> pending_;
  std::int64_t last_heartbeat_ms_ = 0;
  // After a gap: where the newest snapshot that covers it begins; the next follow starts there.
  std::optional<std::uint64_t> resync_from_;
  std::uint64_t last_resync_from_ = 0;  // a resynchronisation that met a gap again asks instead
};

}  // namespace revocore::replication
