#include "crl/atomic_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "revocation/error.hpp"

namespace revocore::crl {
namespace {

[[noreturn]] void fail(std::string_view what, const std::filesystem::path& file) {
  throw Error(ErrorCode::kStoreIo,
              fmt::format("cannot {} {}: {}", what, file.string(), std::strerror(errno)));
}

// A writer killed between creating its temporary file and renaming it leaves the temporary
// behind (never a half-written target: readers only see whole files). Removes the temporaries in
// `directory` whose writer process is gone, so crashes do not pile them up.
void remove_abandoned_temporaries(const std::filesystem::path& directory) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(directory, ec)) {
    const std::string name = entry.path().filename().string();
    const auto marker = name.rfind(".tmp.");
    if (!name.starts_with('.') || marker == std::string::npos) {
      continue;
    }
    const long pid = std::strtol(name.c_str() + marker + 5, nullptr, 10);
    if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
      std::filesystem::remove(entry.path(), ec);
    }
  }
}

}  // namespace

FileDescriptor::~FileDescriptor() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

void write_file_atomically(const std::filesystem::path& file, std::string_view bytes) {
  const std::filesystem::path directory = file.parent_path();
  remove_abandoned_temporaries(directory);
  const std::filesystem::path temporary =
      directory / fmt::format(".{}.tmp.{}", file.filename().string(), ::getpid());
  {
    FileDescriptor fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd.valid()) {
      fail("create", temporary);
    }
    const char* data = bytes.data();
    std::size_t left = bytes.size();
    while (left > 0) {
      const ssize_t written = ::write(fd.get(), data, left);
      if (written < 0 && errno == EINTR) {
        continue;
      }
      if (written <= 0) {
        const int saved = errno;
        ::unlink(temporary.c_str());
        errno = saved;
        fail("write", temporary);
      }
      data += written;
      left -= static_cast<std::size_t>(written);
    }
    if (::fsync(fd.get()) != 0) {
      ::unlink(temporary.c_str());
      fail("fsync", temporary);
    }
  }
  if (::rename(temporary.c_str(), file.c_str()) != 0) {
    ::unlink(temporary.c_str());
    fail("rename into place", file);
  }
  // The rename is durable only once the directory entry is.
  FileDescriptor dir(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid() || ::fsync(dir.get()) != 0) {
    fail("fsync the directory of", file);
  }
}

void check_writable_directory(const std::filesystem::path& directory) {
  std::error_code ec;
  std::filesystem::create_directories(directory, ec);
  if (ec) {
    throw Error(ErrorCode::kStoreIo, fmt::format("cannot create the publish directory {}: {}",
                                                 directory.string(), ec.message()));
  }
  const std::filesystem::path probe = directory / fmt::format(".write-check.{}", ::getpid());
  FileDescriptor fd(::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd.valid()) {
    throw Error(ErrorCode::kStoreIo,
                fmt::format("the publish directory {} is not writable ({}); fix its permissions "
                            "or configure another publish_directory",
                            directory.string(), std::strerror(errno)));
  }
  ::unlink(probe.c_str());
}

DirectoryLock::DirectoryLock(const std::filesystem::path& file)
    : fd_(::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)) {
  if (!fd_.valid()) {
    fail("create the lock file", file);
  }
  while (::flock(fd_.get(), LOCK_EX) != 0) {
    if (errno != EINTR) {
      fail("lock", file);
    }
  }
}

}  // namespace revocore::crl
