#pragma once
// Files that readers never see half-written: write a temporary file in the same directory,
// fsync it, rename it over the target, fsync the directory.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "revocation/posix_file.hpp"

namespace revocore::crl {

// A new file written in pieces that readers see whole or not at all: it is written under a
// temporary name in its directory (created exclusively, never through a link) and appears under
// its names only in publish(). Destroyed unpublished, it leaves nothing behind. Every failure
// throws kIo naming the file.
class AtomicFile {
 public:
  AtomicFile(const std::filesystem::path& directory, std::string name);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(std::string_view bytes);  // appends
  void write_at(std::uint64_t offset, std::string_view bytes);
  // Moves `length` bytes at `from` to `to` (the ranges may overlap).
  void move_range(std::uint64_t from, std::uint64_t length, std::uint64_t to);
  void truncate(std::uint64_t size);
  std::uint64_t size() const noexcept { return size_; }
  // Starts writing the file's pages (all, or `length` octets from `offset`) to disk without
  // waiting (sync_file_range(2)), so that publish()'s fsync finds most of the work done.
  void start_writeback(std::uint64_t offset = 0, std::uint64_t length = 0);
  // The file's bytes [0, size()) as a read-only mapping of the file itself.
  MappedFile map() const;

  // fsync the file; link it under each of `also_as` (an entry of that name replaced), rename
  // it to its name, fsync the directory. Many files published together leave the directory's
  // fsync to the last (`sync_directory` false for the others, or sync_directory() after them):
  // one journal commit instead of one per file.
  void publish(const std::vector<std::string>& also_as = {}, bool sync_directory = true);

 private:
  std::filesystem::path directory_;
  std::string name_;
  std::string temporary_name_;
  FileDescriptor dir_;
  FileDescriptor fd_;
  std::uint64_t size_ = 0;
  bool published_ = false;
};

// fsync(2) of a directory, so that the entries renamed into it are durable. Throws kIo.
void sync_directory(const std::filesystem::path& directory);

// Throws kIo naming the file when any step fails; the target is then untouched.
void write_file_atomically(const std::filesystem::path& file, std::string_view bytes);
// The same, unless the file (not a link) already holds exactly `bytes`: a small document that
// is the same after almost every publication costs no writes and no fsyncs then. Whether it
// wrote.
bool write_file_if_changed(const std::filesystem::path& file, std::string_view bytes);

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
