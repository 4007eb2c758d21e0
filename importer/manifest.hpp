#pragma once
// The import manifest: which credential (id, type) of which user each certificate file belongs
// to. Two formats:
//   CSV with a header line naming the columns (any order; user_name optional):
//     certificate,credential,type,user,user_name
//     alice-card.pem,card-1001,card,1001,Alice Andersson
//   JSON lines, one object per line:
//     {"certificate": "alice-card.pem", "credential": "card-1001", "type": "card", "user": "1001"}
// Every error names the manifest file and line.
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "revocation/types.hpp"

namespace revocore::importer {

struct ManifestEntry {
  std::size_t line = 0;
  std::string certificate;  // a file name (or path relative to the manifest)
  std::string credential_id;
  CredentialType type = CredentialType::kCard;
  std::string user_id;
  std::string user_name;
};

// `source` names the manifest in messages. JSON lines when the first non-blank character is '{'.
std::vector<ManifestEntry> parse_manifest(std::string_view text, std::string_view source);
std::vector<ManifestEntry> load_manifest(const std::filesystem::path& file);

// Throws kInvalidArgument unless `id` is 1 to 128 bytes of printable text without control
// characters. `what` is "user id" or "credential id".
void check_identifier(std::string_view id, std::string_view what);

}  // namespace revocore::importer
