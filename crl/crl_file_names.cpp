#include "crl/crl_file_names.hpp"

#include <fmt/format.h>

namespace revocore::crl {
namespace {

// "" or "-<digits>" (a CRL number, no leading zero).
bool is_number_suffix(std::string_view rest) noexcept {
  if (rest.empty()) {
    return true;
  }
  if (rest.size() < 2 || rest.size() > 21 || rest[0] != '-' || rest[1] == '0') {
    return false;
  }
  for (const char c : rest.substr(1)) {
    if (c < '0' || c > '9') {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string crl_file_stem(std::string_view issuer, CrlKind kind) {
  return kind == CrlKind::kFull ? std::string(issuer) : fmt::format("{}-delta", issuer);
}

bool is_published_crl_name(const config::IssuerConfig& issuer, std::string_view name) noexcept {
  if (!issuer.crl) {
    return false;
  }
  if (issuer.crl->pem && name.ends_with(".crl.pem")) {
    name.remove_suffix(4);
  }
  if (!name.ends_with(".crl") || !name.starts_with(issuer.name)) {
    return false;
  }
  std::string_view rest = name.substr(issuer.name.size(), name.size() - issuer.name.size() - 4);
  if (rest.starts_with("-delta")) {
    if (!issuer.crl->delta_crls) {
      return false;
    }
    rest.remove_prefix(6);
  }
  return is_number_suffix(rest);
}

}  // namespace revocore::crl
