#pragma once
// The writer's side of replication (docs/REPLICATION.md): publishes every committed change a
// responder needs to the JetStream stream, in commit order. The store is the outbox: the journal
// (status changes) and the registration log are written in the transactions that make the
// changes, so a change committed just before a SIGKILL is published when the publisher runs
// again. What the stream acknowledged is recorded in the store (FeedPosition) and, in case the
// process died between an acknowledgement and that record, read back from the stream itself.
// Message ids are derived from the sequences a message covers, so JetStream's duplicate window
// drops a message published twice.
//
// A replica that finds a gap no snapshot covers (a message lost by the NATS servers) asks for a
// snapshot on <subject>.snapshot-request; the publisher makes one, at most once a minute.
//
// Bounded storage: the first publication is a snapshot of every certificate; after
// `snapshot_after_changes` more changes, a new snapshot is published and the changes and
// snapshots before it are purged. A new replica reads the stream from its start: the newest
// snapshot, then the changes after it.
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "config/configuration.hpp"
#include "replication/feed_message.hpp"
#include "replication/feed_signature.hpp"
#include "replication/stream_connection.hpp"
#include "revocation/clock.hpp"
#include "revocation/store.hpp"

namespace revocore::replication {

struct PublisherCounters {
  std::atomic<std::uint64_t> messages{0};
  std::atomic<std::uint64_t> certificates{0};
  std::atomic<std::uint64_t> snapshots{0};
  std::atomic<std::uint64_t> errors{0};
  std::atomic<std::uint64_t> acknowledged_journal{0};
};

// The writer's Prometheus lines: messages, certificates and snapshots published, errors, and how
// many committed sequences are not yet acknowledged by the stream.
std::string render_metrics(const PublisherCounters& counters, const FeedPosition& acknowledged,
                           std::uint64_t last_journal, std::uint64_t last_registration);

class FeedPublisher {
 public:
  // Loads the signing key (kInvalidConfig when it cannot be used). Does not connect.
  FeedPublisher(Store& store, const config::Configuration& config, Clock clock);

  // Connects (retrying), then publishes what is committed and heartbeats until `stop` is set.
  // Never throws: failures are logged and retried.
  void run(const std::atomic<bool>& stop);

  // Reads where the stream stands (the store's record, or the stream's own newest messages when
  // they are further); throws kReplication when the stream holds a feed this store did not make.
  void resume(StreamConnection& stream);
  // Publishes everything committed and not yet acknowledged; returns the messages published.
  std::size_t publish_pending(StreamConnection& stream);
  // The writer's latest committed sequences, signed, on the heartbeat subject.
  void publish_heartbeat(StreamConnection& stream);

  const PublisherCounters& counters() const noexcept { return counters_; }
  FeedPosition position() const;

 private:
  std::uint64_t publish_signed(StreamConnection& stream, const std::string& subject,
                               const FeedMessage& message, const std::string& id);
  void publish_issuers(StreamConnection& stream);
  void publish_snapshot(StreamConnection& stream);
  // One message of the changes after `sent`, which it advances; false when nothing was left.
  bool publish_changes(StreamConnection& stream, FeedPosition& sent);
  // Messages of changes sent before waiting for their acknowledgements (2,000 certificates each).
  static constexpr int kChangesInFlight = 32;
  void record_position(bool force);
  // When the stream no longer holds the newest snapshot's first message (a cluster that lost
  // data, a stream recreated by hand), the issuers and a new snapshot are published again so a
  // new replica can still become complete.
  void check_stream_holds_snapshot(StreamConnection& stream);
  // Storage stays bounded when CRLs, not changes, make the stream grow: a new snapshot (which
  // purges everything before it) once the stream holds more than twice what it held after the
  // last one, plus kStreamSlackBytes.
  void check_stream_size(StreamConnection& stream);
  static constexpr std::uint64_t kStreamSlackBytes = 64ULL << 20;
  // Each configured issuer's and shard's CRL numbers as of `txn`.
  struct PublishedCrlState {
    const config::IssuerConfig* issuer;
    IssuerId id;
    std::uint16_t shard;
    CrlState state;
  };
  std::vector<PublishedCrlState> crl_states(const StoreTransaction& txn) const;
  // Every issuer's and shard's newest full and delta CRL not yet in the stream (or, `again`,
  // each of them), in parts, then each issuer's shard list. Older ones stay in the stream until
  // the next snapshot (which holds the newest) purges them.
  void publish_crls(StreamConnection& stream, const std::vector<PublishedCrlState>& crls,
                    bool again);
  void publish_crl_file(StreamConnection& stream, const config::IssuerConfig& issuer, IssuerId id,
                        std::uint16_t shard, bool delta, std::uint64_t number, bool again);
  // The issuer's shard list (<issuer>-shards.json) when it differs from the one last published.
  void publish_shard_list(StreamConnection& stream, const config::IssuerConfig& issuer, IssuerId id,
                          bool again);

  Store& store_;
  const config::Configuration& config_;
  const config::ReplicationSettings& settings_;
  Clock clock_;
  FeedSigner signer_;
  FeedVerifier verifier_;

  mutable std::mutex mutex_;  // position_, read by position() from other threads
  FeedPosition position_;
  FeedPosition recorded_;
  std::int64_t last_record_ms_ = 0;
  bool snapshot_requested_ = false;  // a replica found a gap no snapshot covers
  std::int64_t last_snapshot_ms_ = 0;
  std::int64_t last_crl_check_ms_ = 0;
  std::uint64_t snapshot_bytes_ = 0;  // the stream's size after the last snapshot; 0 = unknown
  // The newest CRL number in the stream per (issuer, shard, delta); from the process's start.
  std::map<std::tuple<IssuerId, std::uint16_t, bool>, std::uint64_t> published_crls_;
  std::map<IssuerId, std::string> published_shard_lists_;
  std::string buffer_;
  FeedMessage changes_;  // reused: its certificates keep their capacity
  PublisherCounters counters_;
};

}  // namespace revocore::replication
