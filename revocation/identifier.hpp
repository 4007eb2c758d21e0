#pragma once
// The ids of users, credentials, processes and jobs, checked where they enter revocore (the
// operator API, the command line, manifests, target lists), so that a bad one is refused with a
// message naming the field instead of failing deep in LMDB (an empty key is MDB_BAD_VALSIZE) or
// being written into answers and logs.
#include <cstddef>
#include <string_view>

namespace revocore {

// LMDB's default maximum key size (mdb_env_get_maxkeysize) is 511 bytes; ids are keys.
inline constexpr std::size_t kMaxIdentifierBytes = 255;

// Throws Error(kInvalidArgument) naming `field` (e.g. "targets[3]") when `id` is empty, longer
// than kMaxIdentifierBytes, not valid UTF-8, or holds a control character (NUL, newline, ...).
void check_identifier(std::string_view field, std::string_view id);

// The length of the valid UTF-8 sequence (RFC 3629: no overlong forms, no surrogates, at most
// U+10FFFF) that `text` starts with: 1 to 4, or 0 when it does not start with one.
std::size_t utf8_sequence_length(std::string_view text) noexcept;

// True when `text` is valid UTF-8 throughout.
bool is_valid_utf8(std::string_view text) noexcept;

}  // namespace revocore
