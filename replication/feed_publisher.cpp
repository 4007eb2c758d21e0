#include "replication/feed_publisher.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <unordered_set>

#include "crl/crl_file_names.hpp"
#include "replication/steady_time.hpp"
#include "revocation/posix_file.hpp"

namespace revocore::replication {

namespace {

// A message read back from the stream, when it verifies with the writer's own key. One that
// does not (forged by someone who may publish on the subject) is ignored: the store's own record
// of what was acknowledged is then where publishing resumes, and the duplicates that may cause
// change nothing on a replica.
std::optional<FeedMessage> read_back(const FeedVerifier& verifier,
                                     const std::optional<StreamMessage>& message) {
  if (!message) {
    return std::nullopt;
  }
  const auto body = verifier.verify(message->subject(), message->data());
  if (!body) {
    spdlog::warn(
        "event=feed_message_not_ours subject={} stream_sequence={} reason=\"not signed "
        "with [replication] signing_key; ignored when resuming\"",
        message->subject(), message->stream_sequence);
    return std::nullopt;
  }
  return decode_feed_message(*body);
}

}  // namespace

std::string render_metrics(const PublisherCounters& counters, const FeedPosition& acknowledged,
                           std::uint64_t last_journal, std::uint64_t last_registration) {
  std::string out;
  const auto line = [&](std::string_view type, std::string_view name, std::string_view help,
                        std::uint64_t value) {
    out += fmt::format("# HELP {0} {1}\n# TYPE {0} {2}\n{0} {3}\n", name, help, type, value);
  };
  line("counter", "revocore_feed_messages_total", "Messages published to the stream.",
       counters.messages.load());
  line("counter", "revocore_feed_certificates_total",
       "Certificate states published (changes and snapshots).", counters.certificates.load());
  line("counter", "revocore_feed_snapshots_total", "Snapshots published.",
       counters.snapshots.load());
  line("counter", "revocore_feed_errors_total", "Publishing failures (each retried).",
       counters.errors.load());
  line("gauge", "revocore_feed_acknowledged_journal_sequence",
       "The journal acknowledged by the stream up to this sequence.", acknowledged.journal);
  const std::uint64_t committed = last_journal + last_registration;
  const std::uint64_t published = acknowledged.journal + acknowledged.registrations;
  line("gauge", "revocore_feed_unpublished_sequences",
       "Committed journal and registration sequences not yet acknowledged by the stream.",
       committed > published ? committed - published : 0);
  return out;
}

FeedPublisher::FeedPublisher(Store& store, const config::Configuration& config, Clock clock)
    : store_(store),
      config_(config),
      settings_(*config.replication),
      clock_(std::move(clock)),
      signer_(FeedSigner::load(config.replication->signing_key)),
      verifier_(signer_.verifier()) {
  position_ = store_.read().feed_position();
  recorded_ = position_;
}

FeedPosition FeedPublisher::position() const {
  std::lock_guard lock(mutex_);
  return position_;
}

void FeedPublisher::resume(StreamConnection& stream) {
  const StoreTransaction txn = store_.read();
  FeedPosition position = txn.feed_position();
  if (auto last = read_back(verifier_, stream.last_message(stream.subjects().changes))) {
    if (last->journal_to > txn.last_journal_sequence() ||
        last->registrations_to > txn.last_registration_sequence()) {
      throw Error(ErrorCode::kReplication,
                  fmt::format("stream {} already holds changes up to journal sequence {}, but "
                              "this store's journal ends at {}: it was fed from another data "
                              "directory; give this writer a new 'stream', or delete the old one",
                              stream.stream(), last->journal_to, txn.last_journal_sequence()));
    }
    position.journal = std::max(position.journal, last->journal_to);
    position.registrations = std::max(position.registrations, last->registrations_to);
  }
  if (auto last = stream.last_message(stream.subjects().snapshot)) {
    const std::uint64_t sequence = last->stream_sequence;
    const auto message = read_back(verifier_, last);
    // Only a complete snapshot counts; one cut short by a crash is replaced by a new one.
    if (message && message->kind == MessageKind::kSnapshotEnd &&
        message->journal_to >= position.snapshot_journal && sequence != 0) {
      position.snapshot_journal = message->journal_to;
      position.snapshot_registrations = message->registrations_to;
      position.snapshot_stream_sequence = message->snapshot_stream_sequence;
      position.journal = std::max(position.journal, message->journal_to);
      position.registrations = std::max(position.registrations, message->registrations_to);
    }
  } else {
    // The stream has no snapshot (new, or its data lost): everything goes out again.
    position = FeedPosition{};
  }
  {
    std::lock_guard lock(mutex_);
    position_ = position;
  }
  counters_.acknowledged_journal = position.journal;
  spdlog::info("event=feed_resumed stream={} journal={} registrations={} issuers={}",
               stream.stream(), position.journal, position.registrations, position.issuers);
}

std::uint64_t FeedPublisher::publish_signed(StreamConnection& stream, const std::string& subject,
                                            const FeedMessage& message, const std::string& id) {
  buffer_.clear();
  encode_feed_message(message, buffer_);
  signer_.sign(subject, buffer_);
  const std::uint64_t sequence = stream.publish(subject, buffer_, id);
  ++counters_.messages;
  return sequence;
}

void FeedPublisher::publish_issuers(StreamConnection& stream) {
  const StoreTransaction txn = store_.read();
  // Issuer ids are handed out in order: one lookup tells whether any is new (this runs every
  // pass of the publisher, and issuer records carry their certificates).
  if (!txn.issuer(position_.issuers + 1)) {
    return;
  }
  FeedMessage message;
  message.kind = MessageKind::kIssuers;
  for (auto& issuer : txn.issuers()) {
    if (issuer.id > position_.issuers) {
      message.issuers.push_back(std::move(issuer));
    }
  }
  if (message.issuers.empty()) {
    return;
  }
  message.time = clock_();
  const IssuerId last = message.issuers.back().id;
  publish_signed(stream, stream.subjects().issuers, message,
                 fmt::format("issuers-{}-{}", message.issuers.front().id, last));
  std::lock_guard lock(mutex_);
  position_.issuers = last;
}

void FeedPublisher::publish_snapshot(StreamConnection& stream) {
  const auto started = steady_ms();
  // One read transaction: the snapshot is the store as of one commit.
  const StoreTransaction txn = store_.read();
  FeedMessage message;
  message.time = clock_();
  message.journal_to = txn.last_journal_sequence();
  message.registrations_to = txn.last_registration_sequence();
  const std::string id =
      fmt::format("snapshot-{}-{}", message.journal_to, message.registrations_to);
  message.kind = MessageKind::kSnapshotBegin;
  message.snapshot_certificates = txn.count_certificates();
  const std::uint64_t begin =
      publish_signed(stream, stream.subjects().snapshot, message, id + "-begin");
  message.kind = MessageKind::kSnapshotPart;
  message.certificates.reserve(kCertificatesPerMessage);
  std::uint64_t part = 0;
  std::uint64_t certificates = 0;
  const auto flush = [&] {
    publish_signed(stream, stream.subjects().snapshot, message, fmt::format("{}-{}", id, part++));
    certificates += message.certificates.size();
    message.certificates.clear();
  };
  txn.for_each_certificate({}, [&](std::string_view key, const CertificateRecord& record) {
    message.certificates.push_back(replicated_certificate(CertificateKey::decode(key), record));
    if (message.certificates.size() == kCertificatesPerMessage) {
      flush();
    }
    return true;
  });
  if (!message.certificates.empty()) {
    flush();
  }
  message.kind = MessageKind::kSnapshotEnd;
  message.snapshot_stream_sequence = begin;
  publish_signed(stream, stream.subjects().snapshot, message, id + "-end");
  {
    std::lock_guard lock(mutex_);
    position_.journal = std::max(position_.journal, message.journal_to);
    position_.registrations = std::max(position_.registrations, message.registrations_to);
    position_.snapshot_journal = message.journal_to;
    position_.snapshot_registrations = message.registrations_to;
    position_.snapshot_stream_sequence = begin;
  }
  record_position(/*force=*/true);
  // What the snapshot replaces: a replica reading from the start now begins with it.
  stream.purge(stream.subjects().changes, begin);
  stream.purge(stream.subjects().snapshot, begin);
  ++counters_.snapshots;
  counters_.certificates += certificates;
  spdlog::info(
      "event=snapshot_published stream={} certificates={} parts={} journal={} "
      "stream_sequence={} seconds={:.3f}",
      stream.stream(), certificates, part, message.journal_to, begin,
      static_cast<double>(steady_ms() - started) / 1000.0);
}

bool FeedPublisher::publish_changes(StreamConnection& stream) {
  const StoreTransaction txn = store_.read();
  FeedMessage message;
  message.kind = MessageKind::kChanges;
  message.journal_from = position_.journal;
  message.registrations_from = position_.registrations;
  message.journal_to = position_.journal;
  message.registrations_to = position_.registrations;
  std::unordered_set<std::string> included;
  std::array<char, CertificateKey::kMaxEncodedSize> buffer;
  const auto add = [&](const CertificateKey& key, const CertificateRecord& record) {
    if (included.emplace(key.encode(buffer)).second) {
      message.certificates.push_back(replicated_certificate(key, record));
    }
  };
  // Status changes in journal order. An entry whose certificate has changed again since is
  // covered by the later entry, which carries the newer state.
  constexpr std::uint64_t kMaxScanned = 8 * kCertificatesPerMessage;
  std::uint64_t scanned = 0;
  txn.for_each_journal_entry(
      position_.journal + 1, txn.last_journal_sequence(), [&](const JournalEntry& entry) {
        if (message.certificates.size() == kCertificatesPerMessage || scanned == kMaxScanned) {
          return false;
        }
        ++scanned;
        const auto record = txn.certificate(entry.certificate);
        if (record && record->status_sequence == entry.sequence) {
          add(entry.certificate, *record);
        }
        message.journal_to = entry.sequence;
        return true;
      });
  txn.for_each_registration(
      position_.registrations + 1, txn.last_registration_sequence(),
      [&](std::uint64_t sequence, const CertificateKey& key) {
        if (message.certificates.size() == kCertificatesPerMessage || scanned == kMaxScanned) {
          return false;
        }
        ++scanned;
        if (const auto record = txn.certificate(key)) {
          add(key, *record);
        }
        message.registrations_to = sequence;
        return true;
      });
  if (message.journal_to == message.journal_from &&
      message.registrations_to == message.registrations_from) {
    return false;
  }
  message.time = clock_();
  publish_signed(stream, stream.subjects().changes, message,
                 fmt::format("changes-{}-{}-{}-{}", message.journal_from, message.journal_to,
                             message.registrations_from, message.registrations_to));
  counters_.certificates += message.certificates.size();
  {
    std::lock_guard lock(mutex_);
    position_.journal = message.journal_to;
    position_.registrations = message.registrations_to;
  }
  counters_.acknowledged_journal = message.journal_to;
  return true;
}

void FeedPublisher::record_position(bool force) {
  const FeedPosition position = this->position();
  const auto now = steady_ms();
  if (!force && now - last_record_ms_ < 250) {
    return;
  }
  if (position.journal == recorded_.journal && position.registrations == recorded_.registrations &&
      position.issuers == recorded_.issuers &&
      position.snapshot_stream_sequence == recorded_.snapshot_stream_sequence) {
    return;
  }
  // A small transaction of its own; the data it describes is already committed and published.
  WriteTransaction txn = store_.write();
  txn.put_feed_position(position);
  txn.commit();
  recorded_ = position;
  last_record_ms_ = now;
}

void FeedPublisher::check_stream_holds_snapshot(StreamConnection& stream) {
  const FeedPosition position = this->position();
  if (position.snapshot_stream_sequence == 0) {
    return;
  }
  // Its first message, read back: one request every few seconds.
  const auto begin = stream.message_at(position.snapshot_stream_sequence);
  const auto body = begin ? verifier_.verify(begin->subject(), begin->data()) : std::nullopt;
  if (body && decode_feed_message(*body).kind == MessageKind::kSnapshotBegin) {
    return;
  }
  spdlog::warn(
      "event=stream_lost_snapshot stream={} snapshot_stream_sequence={} "
      "action=\"publishing the issuers and a new snapshot\"",
      stream.stream(), position.snapshot_stream_sequence);
  std::lock_guard lock(mutex_);
  position_.issuers = 0;
  position_.snapshot_stream_sequence = 0;
}

void FeedPublisher::publish_crl_file(StreamConnection& stream, const config::IssuerConfig& issuer,
                                     IssuerId id, std::uint16_t shard, bool delta,
                                     std::uint64_t number) {
  auto& published = published_crls_[{id, shard, delta}];
  if (number == 0 || published >= number) {
    return;
  }
  // The numbered copy: it never changes, while <stem>.crl may already be a newer one.
  const auto kind = delta ? crl::CrlKind::kDelta : crl::CrlKind::kFull;
  const std::filesystem::path file =
      issuer.crl->publish_directory /
      fmt::format("{}-{}.crl", crl::crl_file_stem(issuer.name, shard, kind), number);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    return;  // not written yet, or removed: the next one will be published
  }
  constexpr std::size_t kMaxCrlBytes = std::size_t{1} << 30;
  const std::string bytes =
      read_regular_file(file, kMaxCrlBytes, ErrorCode::kIo, "a published CRL").bytes;
  const std::string subject = stream.subjects().crl(id, shard, delta);
  FeedMessage message;
  message.kind = MessageKind::kCrl;
  message.crl.issuer = id;
  message.crl.shard = shard;
  message.crl.delta = delta;
  message.crl.number = number;
  message.crl.total_size = bytes.size();
  std::uint64_t first = 0;
  for (std::size_t offset = 0; offset < bytes.size() || offset == 0;
       offset += kCrlBytesPerMessage) {
    message.time = clock_();
    message.crl.offset = offset;
    message.crl.bytes = bytes.substr(offset, kCrlBytesPerMessage);
    const std::uint64_t sequence = publish_signed(
        stream, subject, message,
        fmt::format("crl-{}-{}-{}-{}-{}", id, shard, delta ? "delta" : "full", number, offset));
    first = first == 0 ? sequence : first;
    if (bytes.empty()) {
      break;
    }
  }
  stream.purge(subject, first);  // the older CRL of this kind
  published = number;
  spdlog::info("event=crl_published_to_stream issuer={} shard={} kind={} number={} bytes={}",
               issuer.name, shard, delta ? "delta" : "full", number, bytes.size());
}

void FeedPublisher::publish_crls(StreamConnection& stream) {
  if (steady_ms() - last_crl_check_ms_ < 250) {
    return;
  }
  last_crl_check_ms_ = steady_ms();
  struct Pending {
    const config::IssuerConfig* issuer;
    IssuerId id;
    std::uint16_t shard;
    CrlState state;
  };
  std::vector<Pending> pending;
  {
    const StoreTransaction txn = store_.read();
    for (const auto& issuer : config_.issuers) {
      if (!issuer.crl) {
        continue;
      }
      const auto record = txn.issuer_by_name(issuer.name);
      if (!record) {
        continue;
      }
      const std::uint16_t shards = std::max<std::uint16_t>(1, record->crl_shards);
      for (std::uint16_t shard = 0; shard < shards; ++shard) {
        pending.push_back({&issuer, record->id, shard, txn.crl_state(record->id, shard)});
      }
    }
  }
  for (const auto& crl : pending) {
    publish_crl_file(stream, *crl.issuer, crl.id, crl.shard, false, crl.state.base_number);
    publish_crl_file(stream, *crl.issuer, crl.id, crl.shard, true, crl.state.delta_number);
  }
}

std::size_t FeedPublisher::publish_pending(StreamConnection& stream) {
  const std::uint64_t before = counters_.messages;
  publish_issuers(stream);
  const FeedPosition position = this->position();
  const std::uint64_t since_snapshot = (position.journal - position.snapshot_journal) +
                                       (position.registrations - position.snapshot_registrations);
  if (position.snapshot_stream_sequence == 0 || snapshot_requested_ ||
      (settings_.snapshot_after_changes != 0 &&
       since_snapshot >= settings_.snapshot_after_changes)) {
    snapshot_requested_ = false;
    last_snapshot_ms_ = steady_ms();
    publish_snapshot(stream);
  }
  while (publish_changes(stream)) {
    record_position(/*force=*/false);
  }
  record_position(/*force=*/true);
  // After the changes: a CRL never reaches a replica before the statuses it lists.
  publish_crls(stream);
  return counters_.messages - before;
}

void FeedPublisher::publish_heartbeat(StreamConnection& stream) {
  FeedMessage message;
  message.kind = MessageKind::kHeartbeat;
  message.time = clock_();
  {
    const StoreTransaction txn = store_.read();
    message.journal_to = txn.last_journal_sequence();
    message.registrations_to = txn.last_registration_sequence();
  }
  std::string body;
  encode_feed_message(message, body);
  signer_.sign(stream.subjects().heartbeat, body);
  stream.publish_core(stream.subjects().heartbeat, body);
}

void FeedPublisher::run(const std::atomic<bool>& stop) {
  std::int64_t backoff_ms = 250;
  while (!stop) {
    try {
      StreamConnection stream = StreamConnection::connect(settings_.nats, "writer", 5000);
      stream.ensure_stream(settings_.stream_replicas);
      resume(stream);
      ScopedNatsSubscription requests = stream.subscribe_core(stream.subjects().snapshot_request);
      backoff_ms = 250;
      // Heartbeats on a thread of their own, so that a long snapshot does not hold them back.
      std::atomic<bool> beating{true};
      std::thread heartbeat([&] {
        while (beating && !stop) {
          try {
            publish_heartbeat(stream);
          } catch (const std::exception& e) {
            spdlog::warn("event=heartbeat_error error=\"{}\"", e.what());
          }
          for (std::int64_t waited = 0; waited < settings_.heartbeat_milliseconds && beating;
               waited += 10) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
          }
        }
      });
      struct StopHeartbeat {
        std::atomic<bool>& beating;
        std::thread& thread;
        ~StopHeartbeat() {
          beating = false;
          thread.join();
        }
      } stop_heartbeat{beating, heartbeat};
      std::int64_t next_stream_check = 0;
      while (!stop) {
        if (steady_ms() >= next_stream_check) {
          check_stream_holds_snapshot(stream);
          next_stream_check = steady_ms() + 5000;
        }
        while (auto request = StreamConnection::next(requests.get(), 1, false)) {
          // Anyone allowed to publish there can ask; the answer is only ever a snapshot, and
          // not more often than once a minute.
          if (steady_ms() - last_snapshot_ms_ >= 60'000) {
            snapshot_requested_ = true;
            spdlog::warn("event=snapshot_requested reason=\"{}\"",
                         std::string(request->data().substr(0, 200)));
          }
        }
        if (publish_pending(stream) == 0) {
          // A commit is seen within this long; LMDB has no change notification to wait on.
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
      }
    } catch (const std::exception& e) {
      ++counters_.errors;
      spdlog::error("event=feed_error error=\"{}\" retry_ms={}", e.what(), backoff_ms);
      for (std::int64_t waited = 0; waited < backoff_ms && !stop; waited += 50) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      backoff_ms = std::min<std::int64_t>(backoff_ms * 2, 2000);
    }
  }
}

}  // namespace revocore::replication
