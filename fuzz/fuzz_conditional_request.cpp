// Fuzz target: the conditional-request fields the public port reads (If-None-Match entity-tag
// lists, HTTP dates) and the CRL start the /crl/ route reads validators from. The input is split
// at its first NUL: before it a field value, after it CRL bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "crl/crl_validity.hpp"
#include "ocsp/conditional_request.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto split = input.find('\0');
  const std::string_view field = input.substr(0, split);
  const std::string_view crl =
      split == std::string_view::npos ? std::string_view() : input.substr(split + 1);
  (void)revocore::ocsp::if_none_match_holds(field, "\"0123456789abcdef0123456789abcdef\"");
  (void)revocore::ocsp::if_none_match_holds(field, field);
  if (const auto date = revocore::ocsp::parse_http_date(field)) {
    (void)*date;
  }
  if (const auto validity = revocore::crl::read_crl_validity(crl.empty() ? field : crl)) {
    (void)validity->this_update;
  }
  return 0;
}
