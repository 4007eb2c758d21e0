#pragma once
// A connection to the NATS servers and the JetStream stream that carries the change feed: TLS and
// credentials from files ([replication] or [replica]), reconnecting by itself. The subjects:
//   <subject>.feed.issuers | .changes | .snapshot | .crl.<issuer>.<shard>.<full|delta>
//     | .shards.<issuer>
//   (the stream <stream>, subjects <subject>.feed.>)
//   <subject>.heartbeat   (core NATS, not stored: only the newest one matters)
//   <subject>.snapshot-request   (core NATS: a replica that found a gap asks for a snapshot)
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "config/configuration.hpp"
#include "replication/nats_handles.hpp"
#include "revocation/records.hpp"

namespace revocore::replication {

struct FeedSubjects {
  explicit FeedSubjects(std::string_view prefix);
  std::string all;  // <prefix>.feed.>
  std::string issuers;
  std::string changes;
  std::string snapshot;
  std::string heartbeat;
  std::string snapshot_request;  // <prefix>.snapshot-request (core NATS): a replica's ask
  std::string crl(IssuerId issuer, std::uint16_t shard, bool delta) const;
  std::string shard_list(IssuerId issuer) const;

 private:
  std::string prefix_;
};

// A message read from the stream.
struct StreamMessage {
  ScopedNatsMsg msg;
  std::uint64_t stream_sequence = 0;
  std::string_view subject() const noexcept { return ::natsMsg_GetSubject(msg.get()); }
  std::string_view data() const noexcept {
    return {::natsMsg_GetData(msg.get()),
            static_cast<std::size_t>(::natsMsg_GetDataLength(msg.get()))};
  }
};

class StreamConnection {
 public:
  // Connects to one of the servers; throws kNetwork when none answers within `timeout_ms`, and
  // kInvalidConfig when a TLS or credentials file cannot be read. `name` is shown by the servers.
  static StreamConnection connect(const config::NatsSettings& settings, std::string_view name,
                                  std::int64_t timeout_ms = 5000);

  const FeedSubjects& subjects() const noexcept { return subjects_; }
  const std::string& stream() const noexcept { return stream_; }
  bool connected() const noexcept;

  // The writer: creates the stream when it does not exist (file storage, `replicas` copies,
  // deduplication by Nats-Msg-Id); an existing one is used as it is.
  void ensure_stream(int replicas);
  // Publishes into the stream without waiting for its acknowledgement (up to kMaxInFlight
  // messages wait at once); returns the stream sequence the message will have. Each message is
  // stored only when the stream's last sequence is the one before it (ExpectLastSeq), so the
  // stream always holds a prefix of what this connection sent, in order: a message refused or
  // lost makes every later one refused too, never a hole. `wait_published` waits for every
  // acknowledgement and throws kNetwork on the first failure (a message id the stream had already
  // stored counts as one: what follows would not be where it was predicted); the writer then
  // reconnects and resumes from what the stream holds.
  std::uint64_t publish(const std::string& subject, std::string_view data,
                        const std::string& message_id);
  void wait_published();
  // The stream sequence the next message published will have.
  std::uint64_t next_sequence();
  static constexpr int kMaxInFlight = 64;
  // Removes the messages of `subject` (every subject, when empty) before stream sequence
  // `before`.
  void purge(const std::string& subject, std::uint64_t before);
  // The newest message of `subject` in the stream, or nullopt when it has none.
  std::optional<StreamMessage> last_message(const std::string& subject);
  // The stream's message at `sequence`, or nullopt when there is none (deleted, purged).
  std::optional<StreamMessage> message_at(std::uint64_t sequence);
  // A core NATS message, not stored (heartbeats).
  void publish_core(const std::string& subject, std::string_view data);
  // The stream's first and last sequences; throws kReplication when the stream does not exist.
  std::pair<std::uint64_t, std::uint64_t> stream_bounds();
  // The bytes the stream holds (on each server).
  std::uint64_t stored_bytes();

  // A replica: an ordered consumer of the whole feed from stream sequence `start`.
  ScopedNatsSubscription follow(std::uint64_t start);
  ScopedNatsSubscription subscribe_core(const std::string& subject);
  // How many times a consumer missed the server's heartbeats in this process (nats.c reports it
  // on its own thread): a follower that sees this grow subscribes again from the last message
  // it applied.
  static std::uint64_t missed_heartbeats() noexcept;

  // The next message of a subscription, or nullopt after `timeout_ms` without one.
  static std::optional<StreamMessage> next(natsSubscription* subscription, std::int64_t timeout_ms,
                                           bool from_stream);

 private:
  class AcknowledgementRecord;  // where nats.c's thread reports publish acknowledgements
  struct State {
    std::uint64_t first = 0;
    std::uint64_t last = 0;
    std::uint64_t bytes = 0;
  };
  State read_state();
  StreamConnection(std::unique_ptr<AcknowledgementRecord> acknowledgements,
                   ScopedNatsConnection connection, ScopedJsContext js, std::string stream,
                   std::string_view prefix, std::int64_t timeout_ms);

 public:
  ~StreamConnection();
  StreamConnection(StreamConnection&&) noexcept;
  StreamConnection& operator=(StreamConnection&&) = delete;

 private:
  // Declared first, so destroyed after the connection: an acknowledgement arriving while the
  // connection closes still finds its record (or, after, none and is dropped).
  std::unique_ptr<AcknowledgementRecord> acknowledgements_;
  ScopedNatsConnection connection_;
  ScopedJsContext js_;
  std::string stream_;
  FeedSubjects subjects_;
  std::int64_t timeout_ms_;
  std::uint64_t next_sequence_ = 0;  // of the next message published; 0 = read the stream's
};

}  // namespace revocore::replication
