#pragma once
// Files that readers never see half-written: write a temporary file in the same directory,
// fsync it, rename it over the target, fsync the directory.
#include <filesystem>
#include <string_view>
#include <utility>

#include "revocation/posix_file.hpp"

namespace revocore::crl {

// Throws kIo naming the file when any step fails; the target is then untouched.
void write_file_atomically(const std::filesystem::path& file, std::string_view bytes);

// Creates `directory` if needed and proves a file can be written there; throws kIo.
void check_writable_directory(const std::filesystem::path& directory);

// An exclusive advisory lock on `file` (created if missing), held for the object's life.
class DirectoryLock {
 public:
  explicit DirectoryLock(const std::filesystem::path& file);

 private:
  FileDescriptor fd_;
};

}  // namespace revocore::crl
