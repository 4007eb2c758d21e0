// Fuzz target: the import manifest parser (CSV and JSON lines). Refusals are revocore::Error.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "importer/manifest.hpp"
#include "revocation/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    (void)revocore::importer::parse_manifest(
        std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.csv");
  } catch (const revocore::Error&) {
    // A clear refusal is the expected outcome for most inputs.
  }
  return 0;
}
