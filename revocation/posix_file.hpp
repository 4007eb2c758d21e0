#pragma once
// POSIX file descriptors, owned, and reading a file someone may have replaced by a FIFO, a device
// or a link: revocore reads keys, certificates and CRLs from paths an operator configured, and a
// FIFO there must be refused at once instead of blocking the process for ever.
#include <sys/stat.h>

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

#include "revocation/error.hpp"

namespace revocore {

// Owns a POSIX file descriptor; closes it once.
class FileDescriptor {
 public:
  FileDescriptor() = default;
  explicit FileDescriptor(int fd) noexcept : fd_(fd) {}
  ~FileDescriptor();
  FileDescriptor(FileDescriptor&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  FileDescriptor& operator=(FileDescriptor&& other) noexcept;
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const noexcept { return fd_; }
  bool valid() const noexcept { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// A read-only, shared mapping of the first `size` bytes of an open file, unmapped when destroyed.
// Its pages are the file's (page cache), not the process's anonymous memory: for signing a CRL
// of tens of MiB written to its file without holding a copy of it.
class MappedFile {
 public:
  MappedFile() = default;
  // Throws kIo naming `what` when the file cannot be mapped.
  MappedFile(int fd, std::size_t size, std::string_view what);
  ~MappedFile();
  MappedFile(MappedFile&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  MappedFile& operator=(MappedFile&&) = delete;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  std::string_view bytes() const noexcept { return {static_cast<const char*>(data_), size_}; }

 private:
  void* data_ = nullptr;
  std::size_t size_ = 0;
};

enum class FollowLinks { kYes, kNo };

// Reads the whole of `file`, which must be a regular file of at most `max_bytes`. A FIFO, a
// device, a directory or (with FollowLinks::kNo) a symbolic link is refused without blocking.
// Throws Error(`code`) whose message starts with `what` (for example "the private key").
struct RegularFile {
  std::string bytes;
  unsigned mode = 0;  // permission bits, read from the descriptor that was read
};
RegularFile read_regular_file(const std::filesystem::path& file, std::size_t max_bytes,
                              ErrorCode code, std::string_view what,
                              FollowLinks follow = FollowLinks::kYes);

// Reads up to `size` bytes from `fd` into `out`, retrying on EINTR, until end of file; `out`
// holds what was read. False on a read error (errno says which).
bool read_up_to(int fd, std::size_t size, std::string& out);

// Opens `name` inside the directory `directory_fd` (or AT_FDCWD) for reading if it is a regular
// file and not a link (the last component: O_NOFOLLOW); an invalid descriptor otherwise (errno
// tells why). For serving files from a directory that others may write to. `info`, when given,
// receives the file's fstat.
FileDescriptor open_regular_file_at(int directory_fd, const char* name,
                                    struct stat* info = nullptr);

}  // namespace revocore
