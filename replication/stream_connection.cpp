#include "replication/stream_connection.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

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

std::string FeedSubjects::crl(IssuerId issuer, std::uint16_t shard, bool delta) const {
  return fmt::format("{}.feed.crl.{}.{}.{}", prefix_, issuer, shard, delta ? "delta" : "full");
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
  jsCtx* raw_js = nullptr;
  jsOptions js_options;
  ::jsOptions_Init(&js_options);
  js_options.Wait = timeout_ms;
  check_nats(::natsConnection_JetStream(&raw_js, connection.get(), &js_options), "JetStream");
  return StreamConnection(std::move(connection), ScopedJsContext(raw_js), settings.stream,
                          settings.subject);
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

std::uint64_t StreamConnection::publish(const std::string& subject, std::string_view data,
                                        const std::string& message_id) {
  jsPubOptions options;
  ::jsPubOptions_Init(&options);
  options.MsgId = message_id.c_str();
  jsPubAck* raw_ack = nullptr;
  jsErrCode error = static_cast<jsErrCode>(0);
  const natsStatus status = ::js_Publish(&raw_ack, js_.get(), subject.c_str(), data.data(),
                                         static_cast<int>(data.size()), &options, &error);
  if (status != NATS_OK) {
    throw_nats_error(fmt::format("cannot publish {} to stream {}", message_id, stream_), status,
                     error);
  }
  ScopedJsPubAck ack(raw_ack);
  return ack->Sequence;
}

void StreamConnection::purge(const std::string& subject, std::uint64_t before) {
  jsOptions options;
  ::jsOptions_Init(&options);
  options.Stream.Purge.Subject = subject.c_str();
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
  return {info->State.FirstSeq, info->State.LastSeq};
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
