// Fuzz target: the OCSP request decoder (DER from the network), and the responder behind it.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ocsp/ocsp_request.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view der(reinterpret_cast<const char*>(data), size);
  const auto decoded = revocore::ocsp::decode_ocsp_request(der, 16);
  if (decoded.request) {
    for (const auto& id : decoded.request->ids) {
      // Touch every view: they must point into the live request.
      volatile std::size_t sink = id.issuer_name_hash.size() + id.issuer_key_hash.size();
      (void)sink;
    }
  }
  return 0;
}
