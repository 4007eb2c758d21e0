// Fuzz target: the TOML configuration loader. Refusals are revocore::Error(kInvalidConfig).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/configuration.hpp"
#include "revocation/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    (void)revocore::config::Configuration::parse(
        std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.toml", "/nonexistent");
  } catch (const revocore::Error&) {
  }
  return 0;
}
