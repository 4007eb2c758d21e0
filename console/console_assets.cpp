#include "console/console_assets.hpp"

namespace revocore::console {

const Asset* find_asset(std::string_view name) noexcept {
  for (const Asset& asset : assets()) {
    if (asset.name == name) {
      return &asset;
    }
  }
  return nullptr;
}

std::string_view content_type(std::string_view name) noexcept {
  if (name.ends_with(".html")) {
    return "text/html; charset=utf-8";
  }
  if (name.ends_with(".css")) {
    return "text/css; charset=utf-8";
  }
  if (name.ends_with(".js")) {
    return "text/javascript; charset=utf-8";
  }
  return "application/octet-stream";
}

}  // namespace revocore::console
