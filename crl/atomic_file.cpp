#include "crl/atomic_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
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
        ::openat(dir, name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
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

AtomicFile::AtomicFile(const std::filesystem::path& directory, std::string name)
    : directory_(directory), name_(std::move(name)) {
  remove_abandoned_temporaries(directory_);
  dir_ = open_directory(directory_);
  temporary_name_ = fmt::format(".{}.tmp.{}", name_, ::getpid());
  fd_ = create_exclusively(dir_.get(), temporary_name_, 0644);
  if (!fd_.valid()) {
    fail("create", directory_ / temporary_name_);
  }
}

AtomicFile::~AtomicFile() {
  if (!published_ && dir_.valid()) {
    ::unlinkat(dir_.get(), temporary_name_.c_str(), 0);
  }
}

void AtomicFile::write(std::string_view bytes) {
  write_at(size_, bytes);
}

void AtomicFile::write_at(std::uint64_t offset, std::string_view bytes) {
  const char* data = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    const ssize_t written = ::pwrite(fd_.get(), data, left, static_cast<off_t>(offset));
    if (written < 0 && errno == EINTR) {
      continue;
    }
    if (written <= 0) {
      fail("write", directory_ / temporary_name_);
    }
    data += written;
    left -= static_cast<std::size_t>(written);
    offset += static_cast<std::uint64_t>(written);
  }
  size_ = std::max(size_, offset);
}

void AtomicFile::move_range(std::uint64_t from, std::uint64_t length, std::uint64_t to) {
  // In pieces, from the end when moving up so that no piece overwrites one not yet moved.
  std::string piece;
  const std::uint64_t step = 1 << 20;
  for (std::uint64_t done = 0; done < length;) {
    const std::uint64_t n = std::min(step, length - done);
    const std::uint64_t offset = to > from ? length - done - n : done;
    piece.resize(static_cast<std::size_t>(n));
    std::size_t have = 0;
    while (have < piece.size()) {
      const ssize_t got = ::pread(fd_.get(), piece.data() + have, piece.size() - have,
                                  static_cast<off_t>(from + offset + have));
      if (got < 0 && errno == EINTR) {
        continue;
      }
      if (got <= 0) {
        fail("read back", directory_ / temporary_name_);
      }
      have += static_cast<std::size_t>(got);
    }
    write_at(to + offset, piece);
    done += n;
  }
}

void AtomicFile::truncate(std::uint64_t size) {
  if (::ftruncate(fd_.get(), static_cast<off_t>(size)) != 0) {
    fail("truncate", directory_ / temporary_name_);
  }
  size_ = size;
}

void AtomicFile::start_writeback(std::uint64_t offset, std::uint64_t length) {
  // Advisory: a failure here shows again, and is reported, in publish()'s fsync.
  ::sync_file_range(fd_.get(), static_cast<off64_t>(offset), static_cast<off64_t>(length),
                    SYNC_FILE_RANGE_WRITE);
}

MappedFile AtomicFile::map() const {
  return MappedFile(fd_.get(), static_cast<std::size_t>(size_),
                    (directory_ / temporary_name_).string());
}

void AtomicFile::publish(const std::vector<std::string>& also_as, bool sync_directory) {
  if (::fsync(fd_.get()) != 0) {
    fail("fsync", directory_ / temporary_name_);
  }
  for (const std::string& name : also_as) {
    // linkat(2) never replaces: an entry of that name (an older copy, a planted link) is
    // unlinked first, which removes the entry and never its target.
    if (::linkat(dir_.get(), temporary_name_.c_str(), dir_.get(), name.c_str(), 0) != 0) {
      if (errno != EEXIST || ::unlinkat(dir_.get(), name.c_str(), 0) != 0 ||
          ::linkat(dir_.get(), temporary_name_.c_str(), dir_.get(), name.c_str(), 0) != 0) {
        fail("link into place", directory_ / name);
      }
    }
  }
  // rename(2) replaces the directory entry itself: a link planted under the target name is
  // replaced, not followed.
  if (::renameat(dir_.get(), temporary_name_.c_str(), dir_.get(), name_.c_str()) != 0) {
    fail("rename into place", directory_ / name_);
  }
  published_ = true;
  // The new entries are durable only once the directory is.
  if (sync_directory && ::fsync(dir_.get()) != 0) {
    fail("fsync the directory of", directory_ / name_);
  }
}

void sync_directory(const std::filesystem::path& directory) {
  const FileDescriptor dir = open_directory(directory);
  if (::fsync(dir.get()) != 0) {
    fail("fsync the directory", directory);
  }
}

void write_file_atomically(const std::filesystem::path& file, std::string_view bytes) {
  AtomicFile out(file.parent_path(), file.filename().string());
  out.write(bytes);
  out.publish();
}

bool write_file_if_changed(const std::filesystem::path& file, std::string_view bytes) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(std::filesystem::symlink_status(file, ec))) {
    try {
      if (read_regular_file(file, bytes.size() + 1, ErrorCode::kIo, "a published file",
                            FollowLinks::kNo)
              .bytes == bytes) {
        return false;
      }
    } catch (const Error&) {
      // Unreadable or of another size: written again below.
    }
  }
  write_file_atomically(file, bytes);
  return true;
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
