#include "crl/crl_file_names.hpp"

#include <fmt/format.h>

#include <charconv>

#include "revocation/crl_shard.hpp"

namespace revocore::crl {
namespace {

// Reads a decimal number without leading zeros from the front of `text`; nullopt when there is
// none or it has more than `max_digits` digits.
std::optional<std::uint64_t> take_number(std::string_view& text, std::size_t max_digits) noexcept {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
    ++digits;
  }
  if (digits == 0 || digits > max_digits || (digits > 1 && text[0] == '0')) {
    return std::nullopt;
  }
  std::uint64_t value = 0;
  std::from_chars(text.data(), text.data() + digits, value);
  text.remove_prefix(digits);
  return value;
}

// "" or "-<number>" (a CRL number).
bool is_number_suffix(std::string_view rest) noexcept {
  if (rest.empty()) {
    return true;
  }
  if (rest[0] != '-') {
    return false;
  }
  rest.remove_prefix(1);
  return take_number(rest, 20) && rest.empty();
}

// What follows the shard in a CRL's name: ["-delta"]["-<number>"].
bool is_kind_and_number(const config::CrlSettings& crl, std::string_view rest) noexcept {
  if (rest.starts_with("-delta")) {
    if (!crl.delta_crls) {
      return false;
    }
    rest.remove_prefix(6);
  }
  return is_number_suffix(rest);
}

// Strips ".crl" (or ".crl.pem" when PEM copies are published) from `name`.
bool strip_crl_extension(const config::CrlSettings& crl, std::string_view& name,
                         std::string_view& extension) noexcept {
  extension = crl.pem && name.ends_with(".crl.pem") ? ".crl.pem" : ".crl";
  if (!name.ends_with(extension)) {
    return false;
  }
  name.remove_suffix(extension.size());
  return true;
}

}  // namespace

std::string crl_file_stem(std::string_view issuer, std::uint16_t shard, CrlKind kind) {
  std::string stem = shard == 0 ? std::string(issuer) : fmt::format("{}-shard{}", issuer, shard);
  if (kind == CrlKind::kDelta) {
    stem += "-delta";
  }
  return stem;
}

std::string shard_list_file_name(std::string_view issuer) {
  return fmt::format("{}-shards.json", issuer);
}

bool is_published_crl_name(const config::IssuerConfig& issuer, std::string_view name) noexcept {
  if (!issuer.crl || !name.starts_with(issuer.name)) {
    return false;
  }
  if (name == shard_list_file_name(issuer.name)) {
    return true;
  }
  std::string_view extension;
  if (!strip_crl_extension(*issuer.crl, name, extension)) {
    return false;
  }
  std::string_view rest = name.substr(issuer.name.size());
  if (rest.starts_with("-shard")) {
    rest.remove_prefix(6);
    const auto shard = take_number(rest, 4);
    if (!shard || *shard == 0 || *shard >= kMaxCrlShards) {
      return false;
    }
  }
  return is_kind_and_number(*issuer.crl, rest);
}

std::optional<std::string> published_file_for(const config::IssuerConfig& issuer,
                                              std::string_view path) {
  if (is_published_crl_name(issuer, path)) {
    return std::string(path);
  }
  if (!issuer.crl || !path.starts_with(issuer.name) || path.size() <= issuer.name.size() ||
      path[issuer.name.size()] != '/') {
    return std::nullopt;
  }
  std::string_view rest = path.substr(issuer.name.size() + 1);
  if (rest == "shards.json") {
    return shard_list_file_name(issuer.name);
  }
  std::string_view extension;
  if (!strip_crl_extension(*issuer.crl, rest, extension)) {
    return std::nullopt;
  }
  const auto shard = take_number(rest, 4);
  if (!shard || *shard >= kMaxCrlShards || !is_kind_and_number(*issuer.crl, rest)) {
    return std::nullopt;
  }
  // rest is now ["-delta"]["-<number>"], as in the file name.
  return fmt::format("{}{}{}",
                     crl_file_stem(issuer.name, static_cast<std::uint16_t>(*shard), CrlKind::kFull),
                     rest, extension);
}

}  // namespace revocore::crl
