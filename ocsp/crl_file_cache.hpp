#pragma once
// The validators of each published file the /crl/ route serves (strong ETag, Last-Modified,
// nextUpdate), remembered per file identity: a conditional GET is answered 304 from an open and
// an fstat, without reading a 34 MiB CRL. The publisher replaces a file by rename, so a new CRL
// is a new inode and is never mistaken for the one cached.
#include <sys/stat.h>

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "revocation/types.hpp"

namespace revocore::ocsp {

struct FileIdentity {
  dev_t device = 0;
  ino_t inode = 0;
  off_t size = 0;
  timespec modified{};

  static FileIdentity of(const struct stat& info) noexcept;
  bool operator==(const FileIdentity& other) const noexcept;
};

struct PublishedFileValidators {
  std::string etag;            // quoted, strong: the first 128 bits of the file's SHA-256, in hex
  UnixTime last_modified = 0;  // a CRL's thisUpdate; other files' mtime
  std::optional<UnixTime> next_update;  // a CRL's nextUpdate: no cache may keep it longer
};

// The validators of `bytes`, the whole file named `name` (a CRL when it ends in ".crl").
PublishedFileValidators validators_of(std::string_view name, std::string_view bytes,
                                      UnixTime modified);

class PublishedFileCache {
 public:
  // Bounded: when full, it is emptied and refills from the files asked for.
  static constexpr std::size_t kMaxEntries = 4096;

  std::optional<PublishedFileValidators> find(std::string_view name,
                                              const FileIdentity& identity) const;
  void remember(std::string_view name, const FileIdentity& identity,
                PublishedFileValidators validators);

 private:
  struct Entry {
    FileIdentity identity;
    PublishedFileValidators validators;
  };
  mutable std::mutex mutex_;
  std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace revocore::ocsp
