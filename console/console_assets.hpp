#pragma once
// The operator console's files (console/assets), compiled in. The console is static: it reads
// and changes everything through the operator API (/api/v1), on the same listener and with the
// same client certificate, so it has no code path of its own for any process.
#include <string_view>
#include <vector>

namespace revocore::console {

struct Asset {
  std::string_view name;  // e.g. "console.js"
  std::string_view bytes;
};

const std::vector<Asset>& assets();

// The asset with this name, or null.
const Asset* find_asset(std::string_view name) noexcept;
// The Content-Type of an asset, from its name's ending.
std::string_view content_type(std::string_view name) noexcept;

}  // namespace revocore::console
