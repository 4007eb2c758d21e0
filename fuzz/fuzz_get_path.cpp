// Fuzz target: a GET path (URL-encoded base64) decoded and then parsed as an OCSP request.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ocsp/ocsp_request.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view path(reinterpret_cast<const char*>(data), size);
  if (const auto der = revocore::ocsp::decode_get_path(path)) {
    revocore::ocsp::OcspRequest request;
    (void)revocore::ocsp::decode_ocsp_request(*der, 16, request);
  }
  return 0;
}
