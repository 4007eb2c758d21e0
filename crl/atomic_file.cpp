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
  throw Error(ErrorCode::kIo,
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

namespace {

FileDescriptor open_directory(const std::filesystem::path& directory) {
  FileDescriptor dir(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid()) {
    fail("open the directory", directory);
  }
  return dir;
}

// Creates `name` in `dir` as a new file, never through a link: O_EXCL with O_CREAT fails on any
// existing entry, a symbolic link included (POSIX open(2)), so a link planted under our temporary
// name cannot redirect the write to a file outside the directory. An entry already there (ours
// from a killed writer with a recycled PID, or planted) is unlinked, which removes the entry and
// never its target, and the creation is tried once more.
FileDescriptor create_exclusively(int dir, const std::string& name, mode_t mode) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    FileDescriptor fd(
        ::openat(dir, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
    if (fd.valid() || errno != EEXIST) {
      return fd;
    }
    if (::unlinkat(dir, name.c_str(), 0) != 0 && errno != ENOENT) {
      return FileDescriptor();
    }
  }
  errno = EEXIST;
  return FileDescriptor();
}

}  // namespace

void write_file_atomically(const std::filesystem::path& file, std::string_view bytes) {
  const std::filesystem::path directory = file.parent_path();
  remove_abandoned_temporaries(directory);
  const FileDescriptor dir = open_directory(directory);
  const std::string temporary_name =
      fmt::format(".{}.tmp.{}", file.filename().string(), ::getpid());
  const std::string target_name = file.filename().string();
  const std::filesystem::path temporary = directory / temporary_name;
  {
    FileDescriptor fd = create_exclusively(dir.get(), temporary_name, 0644);
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
        ::unlinkat(dir.get(), temporary_name.c_str(), 0);
        errno = saved;
        fail("write", temporary);
      }
      data += written;
      left -= static_cast<std::size_t>(written);
    }
    if (::fsync(fd.get()) != 0) {
      ::unlinkat(dir.get(), temporary_name.c_str(), 0);
      fail("fsync", temporary);
    }
  }
  // rename(2) replaces the directory entry itself: a link planted under the target name is
  // replaced, not followed.
  if (::renameat(dir.get(), temporary_name.c_str(), dir.get(), target_name.c_str()) != 0) {
    ::unlinkat(dir.get(), temporary_name.c_str(), 0);
    fail("rename into place", file);
  }
  // The rename is durable only once the directory entry is.
  if (::fsync(dir.get()) != 0) {
    fail("fsync the directory of", file);
  }
}

void check_writable_directory(const std::filesystem::path& directory) {
  std::error_code ec;
  std::filesystem::create_directories(directory, ec);
  if (ec) {
    throw Error(ErrorCode::kIo, fmt::format("cannot create the publish directory {}: {}",
                                            directory.string(), ec.message()));
  }
  const FileDescriptor dir = open_directory(directory);
  const std::string probe = fmt::format(".write-check.{}", ::getpid());
  FileDescriptor fd = create_exclusively(dir.get(), probe, 0600);
  if (!fd.valid()) {
    throw Error(ErrorCode::kIo,
                fmt::format("the publish directory {} is not writable ({}); fix its permissions "
                            "or configure another publish_directory",
                            directory.string(), std::strerror(errno)));
  }
  ::unlinkat(dir.get(), probe.c_str(), 0);
}

DirectoryLock::DirectoryLock(const std::filesystem::path& file)
    // O_NOFOLLOW: a link planted under the lock's name is refused, not opened.
    : fd_(::open(file.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600)) {
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
