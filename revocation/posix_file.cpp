#include "revocation/posix_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace revocore {

FileDescriptor::~FileDescriptor() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

MappedFile::MappedFile(int fd, std::size_t size, std::string_view what) : size_(size) {
  if (size == 0) {
    return;  // mmap(2) refuses a length of 0; an empty view needs no mapping
  }
  void* data = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  if (data == MAP_FAILED) {
    throw Error(ErrorCode::kIo, fmt::format("cannot map {}: {}", what, std::strerror(errno)));
  }
  data_ = data;
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) {
    ::munmap(data_, size_);
  }
}

FileDescriptor& FileDescriptor::operator=(FileDescriptor&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

RegularFile read_regular_file(const std::filesystem::path& file, std::size_t max_bytes,
                              ErrorCode code, std::string_view what, FollowLinks follow) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
  int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
  if (follow == FollowLinks::kNo) {
    flags |= O_NOFOLLOW;
  }
  FileDescriptor fd(::open(file.c_str(), flags));
  if (!fd.valid()) {
    if (errno == ELOOP) {
      throw Error(code, fmt::format("{} {} is a symbolic link, which revocore does not follow "
                                    "here; configure the file itself",
                                    what, file.string()));
    }
    throw Error(code,
                fmt::format("cannot read {} {}: {}", what, file.string(), std::strerror(errno)));
  }
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) {
    throw Error(code,
                fmt::format("cannot read {} {}: {}", what, file.string(), std::strerror(errno)));
  }
  if (!S_ISREG(info.st_mode)) {
    throw Error(code, fmt::format("{} {} is not a regular file (a FIFO, device or directory); "
                                  "configure a regular file",
                                  what, file.string()));
  }
  if (static_cast<std::uintmax_t>(info.st_size) > max_bytes) {
    throw Error(code, fmt::format("{} {} is {} bytes, more than the {} bytes revocore reads", what,
                                  file.string(), info.st_size, max_bytes));
  }
  // A regular file never blocks; clear O_NONBLOCK anyway so a short read means end of file.
  ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) & ~O_NONBLOCK);
  std::string bytes;  // shorter than st_size when the file shrank while it was read
  if (!read_up_to(fd.get(), static_cast<std::size_t>(info.st_size), bytes)) {
    throw Error(code,
                fmt::format("cannot read {} {}: {}", what, file.string(), std::strerror(errno)));
  }
  return RegularFile{std::move(bytes), static_cast<unsigned>(info.st_mode & 07777)};
}

bool read_up_to(int fd, std::size_t size, std::string& out) {
  out.resize(size);
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::read(fd, out.data() + done, size - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return false;
    }
    if (n == 0) {
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  out.resize(done);
  return true;
}

FileDescriptor open_regular_file_at(int directory_fd, const char* name, struct stat* info_out) {
  FileDescriptor fd(
      ::openat(directory_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY));
  if (!fd.valid()) {
    return fd;
  }
  struct stat own {};
  struct stat& info = info_out != nullptr ? *info_out : own;
  if (::fstat(fd.get(), &info) != 0 || !S_ISREG(info.st_mode)) {
    errno = EINVAL;
    return FileDescriptor();
  }
  return fd;
}

}  // namespace revocore
