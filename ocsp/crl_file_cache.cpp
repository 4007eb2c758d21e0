#include "ocsp/crl_file_cache.hpp"

#include <openssl/evp.h>

#include "crl/crl_validity.hpp"

namespace revocore::ocsp {

FileIdentity FileIdentity::of(const struct stat& info) noexcept {
  return FileIdentity{info.st_dev, info.st_ino, info.st_size, info.st_mtim};
}

bool FileIdentity::operator==(const FileIdentity& other) const noexcept {
  return device == other.device && inode == other.inode && size == other.size &&
         modified.tv_sec == other.modified.tv_sec && modified.tv_nsec == other.modified.tv_nsec;
}

PublishedFileValidators validators_of(std::string_view name, std::string_view bytes,
                                      UnixTime modified) {
  PublishedFileValidators out;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  ::EVP_Digest(bytes.data(), bytes.size(), digest, &length, ::EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  out.etag.push_back('"');
  for (unsigned i = 0; i < 16 && i < length; ++i) {
    out.etag.push_back(kHex[digest[i] >> 4]);
    out.etag.push_back(kHex[digest[i] & 0xF]);
  }
  out.etag.push_back('"');
  out.last_modified = modified;
  if (name.ends_with(".crl")) {
    // RFC 5280 5.1.2.4: thisUpdate is when this CRL was issued.
    if (const auto validity = crl::read_crl_validity(bytes.substr(0, 4096))) {
      out.last_modified = validity->this_update;
      out.next_update = validity->next_update;
    }
  }
  return out;
}

std::optional<PublishedFileValidators> PublishedFileCache::find(
    std::string_view name, const FileIdentity& identity) const {
  const std::lock_guard lock(mutex_);
  const auto it = entries_.find(name);
  if (it == entries_.end() || !(it->second.identity == identity)) {
    return std::nullopt;
  }
  return it->second.validators;
}

void PublishedFileCache::remember(std::string_view name, const FileIdentity& identity,
                                  PublishedFileValidators validators) {
  const std::lock_guard lock(mutex_);
  if (entries_.size() >= kMaxEntries && !entries_.contains(name)) {
    entries_.clear();
  }
  auto [it, inserted] = entries_.try_emplace(std::string(name));
  it->second = Entry{identity, std::move(validators)};
}

}  // namespace revocore::ocsp
