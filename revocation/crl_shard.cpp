#include "revocation/crl_shard.hpp"

namespace revocore {

std::uint16_t crl_shard_for(const Serial& serial, std::uint16_t shard_count) noexcept {
  if (shard_count <= 1) {
    return 0;
  }
  std::uint64_t hash = 0xcbf29ce484222325ULL;  // FNV-1a 64-bit offset basis
  for (const char octet : serial.octets()) {
    hash ^= static_cast<std::uint8_t>(octet);
    hash *= 0x100000001b3ULL;  // FNV prime
  }
  return static_cast<std::uint16_t>(hash % shard_count);
}

}  // namespace revocore
