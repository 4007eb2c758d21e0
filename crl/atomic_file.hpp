#pragma once
// Files that readers never see half-written: write a temporary file in the same directory,
// fsync it, rename it over the target, fsync the directory.
#include <filesystem>
#include <string_view>
#include <utility>

namespace revocore::crl {

// Owns a POSIX file descriptor; closes it once.
class FileDescriptor {
 public:
  FileDescriptor() = default;
  explicit FileDescriptor(int fd) noexcept : fd_(fd) {}
  ~FileDescriptor();
  FileDescriptor(FileDescriptor&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  FileDescriptor& operator=(FileDescriptor&&) = delete;
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const noexcept { return fd_; }
  bool valid() const noexcept { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// Throws kStoreIo naming the file when any step fails; the target is then untouched.
void write_file_atomically(const std::filesystem::path& file, std::string_view bytes);

// Creates `directory` if needed and proves a file can be written there; throws kStoreIo.
void check_writable_directory(const std::filesystem::path& directory);

// An exclusive advisory lock on `file` (created if missing), held for the object's life.
class DirectoryLock {
 public:
  explicit DirectoryLock(const std::filesystem::path& file);

 private:
  FileDescriptor fd_;
};

}  // namespace revocore::crl
