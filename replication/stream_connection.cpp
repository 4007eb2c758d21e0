#include "replication/stream_connection.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "revocation/posix_file.hpp"

namespace revocore::replication {

namespace {

// nats.c calls these on its own threads: they log and never throw.
// nats.c may call these after natsConnection_Destroy returned, from its own thread: they touch
// only static data (the side's name is a string literal) and never throw.
std::atomic<std::uint64_t> g_missed_heartbeats{0};

void on_disconnected(natsConnection*, void* side) noexcept {
  spdlog::warn("event=nats_disconnected side={}", static_cast<const char*>(side));
}
void on_reconnected(natsConnection* nc, void* side) noexcept {
  char url[256] = {};
  ::natsConnection_GetConnectedUrl(nc, url, sizeof url);
  spdlog::info("event=nats_reconnected side={} server={}", static_cast<const char*>(side), url);
}
void on_async_error(natsConnection*, natsSubscription*, natsStatus status, void* side) noexcept {
  if (status == NATS_MISSED_HEARTBEAT) {
    g_missed_heartbeats.fetch_add(1);
  }
  spdlog::warn("event=nats_error side={} error=\"{}\"", static_cast<const char*>(side),
               ::natsStatus_GetText(status));
}

// Publish acknowledgements, by the id of the connection that published. nats.c calls
// on_publish_acknowledged on its own thread, possibly while or after the connection is destroyed:
// the callback finds its connection's entry under the mutex or drops the acknowledgement.
struct PublishOutcome {
  std::uint64_t stored = 0;  // newest stream sequence acknowledged
  std::uint64_t failures = 0;
  std::string first_failure;
};
std::mutex g_outcomes_mutex;
std::unordered_map<std::uintptr_t, PublishOutcome> g_outcomes;
std::uintptr_t g_next_outcome_id = 1;

void on_publish_acknowledged(jsCtx*, natsMsg* msg, jsPubAck* ack, jsPubAckErr* error,
                             void* closure) noexcept {
  try {
    std::lock_guard lock(g_outcomes_mutex);
    const auto found = g_outcomes.find(reinterpret_cast<std::uintptr_t>(closure));
    if (found != g_outcomes.end()) {
      PublishOutcome& outcome = found->second;
      if (ack != nullptr && !ack->Duplicate) {
        outcome.stored = std::max(outcome.stored, ack->Sequence);
      } else if (++outcome.failures == 1) {
        const char* id = nullptr;
        if (msg == nullptr || ::natsMsgHeader_Get(msg, "Nats-Msg-Id", &id) != NATS_OK) {
          id = "?";
        }
        outcome.first_failure =
            ack != nullptr
                ? fmt::format("the stream already held message {} (sequence {})", id, ack->Sequence)
                : fmt::format("message {} refused: {}{}", id, ::natsStatus_GetText(error->Err),
                              error->ErrText != nullptr ? fmt::format(" ({})", error->ErrText)
                                                        : std::string());
      }
    }
  } catch (...) {
    // Out of memory for the text: the failure is still counted.
  }
  ::natsMsg_Destroy(msg);
}

void check_file(const std::filesystem::path& file, std::string_view what,
                const config::NatsSettings& settings) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    throw Error(ErrorCode::kInvalidConfig, fmt::format("{}: {} {} is not a readable file",
                                                       settings.origin, what, file.string()));
  }
}

}  // namespace

FeedSubjects::FeedSubjects(std::string_view prefix)
    : all(fmt::format("{}.feed.>", prefix)),
      issuers(fmt::format("{}.feed.issuers", prefix)),
      changes(fmt::format("{}.feed.changes", prefix)),
      snapshot(fmt::format("{}.feed.snapshot", prefix)),
      heartbeat(fmt::format("{}.heartbeat", prefix)),
      snapshot_request(fmt::format("{}.snapshot-request", prefix)),
      prefix_(prefix) {}

class StreamConnection::AcknowledgementRecord {
 public:
  AcknowledgementRecord() {
    std::lock_guard lock(g_outcomes_mutex);
    id_ = g_next_outcome_id++;
    g_outcomes.emplace(id_, PublishOutcome{});
  }
  ~AcknowledgementRecord() {
    std::lock_guard lock(g_outcomes_mutex);
    g_outcomes.erase(id_);
  }
  AcknowledgementRecord(const AcknowledgementRecord&) = delete;
  AcknowledgementRecord& operator=(const AcknowledgementRecord&) = delete;
  void* closure() const noexcept { return reinterpret_cast<void*>(id_); }
  // What was acknowledged since the last call.
  PublishOutcome take() {
    std::lock_guard lock(g_outcomes_mutex);
    return std::exchange(g_outcomes[id_], PublishOutcome{});
  }

 private:
  std::uintptr_t id_ = 0;
};

StreamConnection::StreamConnection(std::unique_ptr<AcknowledgementRecord> acknowledgements,
                                   ScopedNatsConnection connection, ScopedJsContext js,
                                   std::string stream, std::string_view prefix,
                                   std::int64_t timeout_ms)
    : acknowledgements_(std::move(acknowledgements)),
      connection_(std::move(connection)),
      js_(std::move(js)),
      stream_(std::move(stream)),
      subjects_(prefix),
      timeout_ms_(timeout_ms) {}
StreamConnection::~StreamConnection() = default;
StreamConnection::StreamConnection(StreamConnection&&) noexcept = default;

std::string FeedSubjects::crl(IssuerId issuer, std::uint16_t shard, bool delta) const {
  return fmt::format("{}.feed.crl.{}.{}.{}", prefix_, issuer, shard, delta ? "delta" : "full");
}

std::string FeedSubjects::shard_list(IssuerId issuer) const {
  return fmt::format("{}.feed.shards.{}", prefix_, issuer);
}

StreamConnection StreamConnection::connect(const config::NatsSettings& settings,
                                           std::string_view name, std::int64_t timeout_ms) {
  natsOptions* raw_options = nullptr;
  check_nats(::natsOptions_Create(&raw_options), "NATS options");
  ScopedNatsOptions options(raw_options);
  std::vector<const char*> servers;
  for (const auto& server : settings.servers) {
    servers.push_back(server.c_str());
  }
  check_nats(
      ::natsOptions_SetServers(options.get(), servers.data(), static_cast<int>(servers.size())),
      "NATS servers");
  void* closure = const_cast<char*>(name == "writer" ? "writer" : "replica");
  check_nats(::natsOptions_SetName(options.get(), std::string(name).c_str()), "NATS name");
  check_nats(::natsOptions_SetTimeout(options.get(), timeout_ms), "NATS timeout");
  check_nats(::natsOptions_SetMaxReconnect(options.get(), -1), "NATS reconnects");
  check_nats(::natsOptions_SetReconnectWait(options.get(), 250), "NATS reconnect wait");
  check_nats(::natsOptions_SetDisconnectedCB(options.get(), on_disconnected, closure),
             "NATS callback");
  check_nats(::natsOptions_SetReconnectedCB(options.get(), on_reconnected, closure),
             "NATS callback");
  check_nats(::natsOptions_SetErrorHandler(options.get(), on_async_error, closure),
             "NATS callback");
  if (!settings.tls_ca.empty()) {
    check_file(settings.tls_ca, "tls_ca", settings);
    check_nats(::natsOptions_SetSecure(options.get(), true), "NATS TLS");
    check_nats(::natsOptions_LoadCATrustedCertificates(options.get(), settings.tls_ca.c_str()),
               fmt::format("load tls_ca {}", settings.tls_ca.string()));
  }
  if (!settings.tls_certificate.empty()) {
    check_file(settings.tls_certificate, "tls_certificate", settings);
    check_file(settings.tls_key, "tls_key", settings);
    check_nats(::natsOptions_LoadCertificatesChain(options.get(), settings.tls_certificate.c_str(),
                                                   settings.tls_key.c_str()),
               fmt::format("load tls_certificate {}", settings.tls_certificate.string()));
  }
  if (!settings.credentials_file.empty()) {
    check_file(settings.credentials_file, "credentials_file", settings);
    check_nats(::natsOptions_SetUserCredentialsFromFiles(
                   options.get(), settings.credentials_file.c_str(), nullptr),
               "NATS credentials");
  }
  if (!settings.user.empty()) {
    std::string password =
        read_regular_file(settings.password_file, 4096, ErrorCode::kInvalidConfig, "password_file")
            .bytes;
    while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) {
      password.pop_back();
    }
    check_nats(::natsOptions_SetUserInfo(options.get(), settings.user.c_str(), password.c_str()),
               "NATS user");
  }

  natsConnection* raw_connection = nullptr;
  const natsStatus status = ::natsConnection_Connect(&raw_connection, options.get());
  if (status != NATS_OK) {
    throw_nats_error(fmt::format("cannot connect to the NATS servers {} ({})",
                                 fmt::join(settings.servers, ", "), settings.origin),
                     status);
  }
  ScopedNatsConnection connection(raw_connection);
  auto acknowledgements = std::make_unique<AcknowledgementRecord>();
  jsCtx* raw_js = nullptr;
  jsOptions js_options;
  ::jsOptions_Init(&js_options);
  js_options.Wait = timeout_ms;
  js_options.PublishAsync.MaxPending = kMaxInFlight;
  js_options.PublishAsync.StallWait = timeout_ms;  // a full window waits, it does not fail
  js_options.PublishAsync.AckHandler = on_publish_acknowledged;
  js_options.PublishAsync.AckHandlerClosure = acknowledgements->closure();
  check_nats(::natsConnection_JetStream(&raw_js, connection.get(), &js_options), "JetStream");
  return StreamConnection(std::move(acknowledgements), std::move(connection),
                          ScopedJsContext(raw_js), settings.stream, settings.subject, timeout_ms);
}

std::uint64_t StreamConnection::missed_heartbeats() noexcept {
  return g_missed_heartbeats.load();
}

bool StreamConnection::connected() const noexcept {
  return ::natsConnection_Status(connection_.get()) == NATS_CONN_STATUS_CONNECTED;
}

void StreamConnection::ensure_stream(int replicas) {
  jsStreamInfo* raw_info = nullptr;
  jsErrCode error = static_cast<jsErrCode>(0);
  natsStatus status = ::js_GetStreamInfo(&raw_info, js_.get(), stream_.c_str(), nullptr, &error);
  if (status == NATS_OK) {
    ScopedJsStreamInfo info(raw_info);
    return;
  }
  if (error != JSStreamNotFoundErr && status != NATS_NOT_FOUND) {
    throw_nats_error(fmt::format("cannot read stream {}", stream_), status, error);
  }
  jsStreamConfig config;
  ::jsStreamConfig_Init(&config);
  config.Name = stream_.c_str();
  const char* subjects[] = {subjects_.all.c_str()};
  config.Subjects = subjects;
  config.SubjectsLen = 1;
  config.Storage = js_FileStorage;
  config.Replicas = replicas;
  config.Duplicates = 10LL * 60 * 1000 * 1000 * 1000;  // 10 minutes, in nanoseconds
  config.MaxMsgSize = 1 << 20;
  status = ::js_AddStream(&raw_info, js_.get(), &config, nullptr, &error);
  if (status != NATS_OK && error != JSStreamNameExistErr) {
    throw_nats_error(fmt::format("cannot create stream {} with {} replica(s)", stream_, replicas),
                     status, error);
  }
  ScopedJsStreamInfo info(raw_info);
  spdlog::info("event=stream_created stream={} replicas={} subjects={}", stream_, replicas,
               subjects_.all);
}

std::uint64_t StreamConnection::next_sequence() {
  if (next_sequence_ == 0) {
    next_sequence_ = stream_bounds().second + 1;
  }
  return next_sequence_;
}

std::uint64_t StreamConnection::publish(const std::string& subject, std::string_view data,
                                        const std::string& message_id) {
  next_sequence();
  natsMsg* raw = nullptr;
  check_nats(
      ::natsMsg_Create(&raw, subject.c_str(), nullptr, data.data(), static_cast<int>(data.size())),
      "a feed message");
  ScopedNatsMsg msg(raw);
  jsPubOptions options;
  ::jsPubOptions_Init(&options);
  options.MsgId = message_id.c_str();
  // 0 means "no expectation" to JetStream: only the first message of an empty stream goes
  // unchecked.
  options.ExpectLastSeq = next_sequence_ - 1;
  raw = msg.release();
  const natsStatus status = ::js_PublishMsgAsync(js_.get(), &raw, &options);
  msg.reset(raw);  // nullptr when nats.c took it
  if (status != NATS_OK) {
    next_sequence_ = 0;
    throw_nats_error(fmt::format("cannot publish {} to stream {}", message_id, stream_), status);
  }
  return next_sequence_++;
}

void StreamConnection::wait_published() {
  jsPubOptions options;
  ::jsPubOptions_Init(&options);
  options.MaxWait = timeout_ms_;
  const natsStatus status = ::js_PublishAsyncComplete(js_.get(), &options);
  if (status != NATS_OK) {
    // Not acknowledged in time: dropped here; the stream holds a prefix of them at most.
    ScopedNatsMsgList pending;
    ::js_PublishAsyncGetPendingList(pending.get(), js_.get());
    next_sequence_ = 0;
    acknowledgements_->take();
    throw_nats_error(fmt::format("{} message(s) to stream {} not acknowledged within {} ms",
                                 pending.size(), stream_, timeout_ms_),
                     status);
  }
  const PublishOutcome outcome = acknowledgements_->take();
  if (outcome.failures != 0) {
    next_sequence_ = 0;
    throw Error(ErrorCode::kNetwork,
                fmt::format("{} message(s) to stream {} not stored, the first: {}; the stream "
                            "holds up to sequence {} of what was sent",
                            outcome.failures, stream_, outcome.first_failure, outcome.stored));
  }
}

void StreamConnection::purge(const std::string& subject, std::uint64_t before) {
  jsOptions options;
  ::jsOptions_Init(&options);
  if (!subject.empty()) {
    options.Stream.Purge.Subject = subject.c_str();
  }
  options.Stream.Purge.Sequence = before;
  jsErrCode error = static_cast<jsErrCode>(0);
  const natsStatus status = ::js_PurgeStream(js_.get(), stream_.c_str(), &options, &error);
  if (status != NATS_OK) {
    throw_nats_error(
        fmt::format("cannot purge {} before {} in stream {}", subject, before, stream_), status,
        error);
  }
}

std::optional<StreamMessage> StreamConnection::last_message(const std::string& subject) {
  natsMsg* raw = nullptr;
  jsErrCode error = static_cast<jsErrCode>(0);
  const natsStatus status =
      ::js_GetLastMsg(&raw, js_.get(), stream_.c_str(), subject.c_str(), nullptr, &error);
  if (status == NATS_NOT_FOUND || error == JSNoMessageFoundErr) {
    return std::nullopt;
  }
  if (status != NATS_OK) {
    throw_nats_error(fmt::format("cannot read the last {} in stream {}", subject, stream_), status,
                     error);
  }
  // A message got from the stream by the API carries its sequence itself.
  return StreamMessage{ScopedNatsMsg(raw), ::natsMsg_GetSequence(raw)};
}

std::optional<StreamMessage> StreamConnection::message_at(std::uint64_t sequence) {
  natsMsg* raw = nullptr;
  jsErrCode error = static_cast<jsErrCode>(0);
  const natsStatus status =
      ::js_GetMsg(&raw, js_.get(), stream_.c_str(), sequence, nullptr, &error);
  if (status == NATS_NOT_FOUND || error == JSNoMessageFoundErr) {
    return std::nullopt;
  }
  if (status != NATS_OK) {
    throw_nats_error(fmt::format("cannot read message {} of stream {}", sequence, stream_), status,
                     error);
  }
  return StreamMessage{ScopedNatsMsg(raw), ::natsMsg_GetSequence(raw)};
}

void StreamConnection::publish_core(const std::string& subject, std::string_view data) {
  check_nats(::natsConnection_Publish(connection_.get(), subject.c_str(), data.data(),
                                      static_cast<int>(data.size())),
             fmt::format("publish {}", subject));
}

std::pair<std::uint64_t, std::uint64_t> StreamConnection::stream_bounds() {
  const State state = read_state();
  return {state.first, state.last};
}

std::uint64_t StreamConnection::stored_bytes() {
  return read_state().bytes;
}

StreamConnection::State StreamConnection::read_state() {
  jsStreamInfo* raw_info = nullptr;
  jsErrCode error = static_cast<jsErrCode>(0);
  const natsStatus status =
      ::js_GetStreamInfo(&raw_info, js_.get(), stream_.c_str(), nullptr, &error);
  if (error == JSStreamNotFoundErr || status == NATS_NOT_FOUND) {
    throw Error(ErrorCode::kReplication,
                fmt::format("the stream {} does not exist on the NATS servers; start the writer's "
                            "publisher (it creates the stream) or fix 'stream' in [replica]",
                            stream_));
  }
  if (status != NATS_OK) {
    throw_nats_error(fmt::format("cannot read stream {}", stream_), status, error);
  }
  ScopedJsStreamInfo info(raw_info);
  return {info->State.FirstSeq, info->State.LastSeq, info->State.Bytes};
}

ScopedNatsSubscription StreamConnection::follow(std::uint64_t start) {
  jsSubOptions options;
  ::jsSubOptions_Init(&options);
  options.Stream = stream_.c_str();
  options.Ordered = true;
  options.Config.DeliverPolicy = js_DeliverByStartSequence;
  options.Config.OptStartSeq = start == 0 ? 1 : start;
  natsSubscription* raw = nullptr;
  jsErrCode error = static_cast<jsErrCode>(0);
  const natsStatus status =
      ::js_SubscribeSync(&raw, js_.get(), subjects_.all.c_str(), nullptr, &options, &error);
  if (status != NATS_OK) {
    if (error == JSStreamNotFoundErr || status == NATS_NOT_FOUND) {
      throw Error(ErrorCode::kReplication,
                  fmt::format("the stream {} does not exist on the NATS servers; start the "
                              "writer's publisher (it creates the stream) or fix 'stream' in "
                              "[replica]",
                              stream_));
    }
    throw_nats_error(fmt::format("cannot follow stream {}", stream_), status, error);
  }
  ScopedNatsSubscription subscription(raw);
  // Catching up a million certificates is a few hundred messages: no limit on how many wait.
  ::natsSubscription_SetPendingLimits(subscription.get(), -1, -1);
  return subscription;
}

ScopedNatsSubscription StreamConnection::subscribe_core(const std::string& subject) {
  natsSubscription* raw = nullptr;
  check_nats(::natsConnection_SubscribeSync(&raw, connection_.get(), subject.c_str()),
             fmt::format("subscribe {}", subject));
  return ScopedNatsSubscription(raw);
}

std::optional<StreamMessage> StreamConnection::next(natsSubscription* subscription,
                                                    std::int64_t timeout_ms, bool from_stream) {
  natsMsg* raw = nullptr;
  const natsStatus status = ::natsSubscription_NextMsg(&raw, subscription, timeout_ms);
  if (status == NATS_TIMEOUT) {
    return std::nullopt;
  }
  if (status != NATS_OK) {
    throw_nats_error("read the feed", status);
  }
  StreamMessage out{ScopedNatsMsg(raw), 0};
  if (from_stream) {
    jsMsgMetaData* meta = nullptr;
    check_nats(::natsMsg_GetMetaData(&meta, raw), "read a feed message's stream sequence");
    ScopedJsMsgMetaData owned(meta);
    out.stream_sequence = meta->Sequence.Stream;
  }
  return out;
}

}  // namespace revocore::replication
