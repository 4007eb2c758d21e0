// Fuzz target: a replica's decoder of the change feed's messages (replication/feed_message.hpp),
// which reads what arrives from the NATS servers once its signature verified. Whatever decodes
// must encode and decode again to the same message.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "replication/feed_message.hpp"
#include "revocation/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace revocore::replication;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  FeedMessage message;
  try {
    message = decode_feed_message(input);
  } catch (const revocore::Error& e) {
    if (e.code() != revocore::ErrorCode::kReplication) {
      std::abort();  // every refusal is a replication error with a message
    }
    return 0;
  }
  std::string again;
  encode_feed_message(message, again);
  const FeedMessage round = decode_feed_message(again);
  if (round.kind != message.kind || round.journal_to != message.journal_to ||
      round.certificates.size() != message.certificates.size() ||
      round.issuers.size() != message.issuers.size() || round.crl.bytes != message.crl.bytes) {
    std::abort();
  }
  return 0;
}
