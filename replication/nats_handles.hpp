#pragma once
// Ownership of nats.c objects: the only place in revocore that names their destroy functions.
// `ScopedNatsMsg msg(raw);` destroys the message when it leaves scope.
#include <nats/nats.h>

#include <memory>
#include <string>
#include <string_view>

#include "revocation/error.hpp"

namespace revocore::replication {

template <typename T, void (*Destroy)(T*)>
struct NatsDeleter {
  void operator()(T* p) const noexcept { Destroy(p); }
};
template <typename T, void (*Destroy)(T*)>
using ScopedNatsType = std::unique_ptr<T, NatsDeleter<T, Destroy>>;

using ScopedNatsOptions = ScopedNatsType<natsOptions, ::natsOptions_Destroy>;
using ScopedNatsMsg = ScopedNatsType<natsMsg, ::natsMsg_Destroy>;
using ScopedNatsSubscription = ScopedNatsType<natsSubscription, ::natsSubscription_Destroy>;
using ScopedJsContext = ScopedNatsType<jsCtx, ::jsCtx_Destroy>;
using ScopedJsPubAck = ScopedNatsType<jsPubAck, ::jsPubAck_Destroy>;
using ScopedJsMsgMetaData = ScopedNatsType<jsMsgMetaData, ::jsMsgMetaData_Destroy>;
using ScopedJsStreamInfo = ScopedNatsType<jsStreamInfo, ::jsStreamInfo_Destroy>;

// A connection is closed (flushing what is buffered) before it is destroyed.
inline void close_and_destroy(natsConnection* connection) noexcept {
  ::natsConnection_Close(connection);
  ::natsConnection_Destroy(connection);
}
using ScopedNatsConnection = ScopedNatsType<natsConnection, close_and_destroy>;

// A fetched batch of messages is a struct, not a pointer: this owns its contents.
class ScopedNatsMsgList {
 public:
  ScopedNatsMsgList() = default;
  ~ScopedNatsMsgList() { ::natsMsgList_Destroy(&list_); }
  ScopedNatsMsgList(const ScopedNatsMsgList&) = delete;
  ScopedNatsMsgList& operator=(const ScopedNatsMsgList&) = delete;
  natsMsgList* get() noexcept { return &list_; }
  int size() const noexcept { return list_.Count; }
  natsMsg* at(int i) const noexcept { return list_.Msgs[i]; }

 private:
  natsMsgList list_{};
};

// kNetwork with what failed, nats.c's text for the status and, when set, JetStream's error code.
[[noreturn]] inline void throw_nats_error(std::string_view what, natsStatus status,
                                          jsErrCode js_error = static_cast<jsErrCode>(0)) {
  std::string message = std::string(what) + ": " + ::natsStatus_GetText(status);
  if (js_error != 0) {
    message += " (JetStream error " + std::to_string(static_cast<int>(js_error)) + ")";
  }
  const char* last = ::nats_GetLastError(nullptr);
  if (last != nullptr && *last != '\0') {
    message += "; ";
    message += last;
  }
  throw Error(ErrorCode::kNetwork, message);
}

inline void check_nats(natsStatus status, std::string_view what) {
  if (status != NATS_OK) {
    throw_nats_error(what, status);
  }
}

}  // namespace revocore::replication
