#pragma once
// DER (X.690) encoding for what revocore emits (CRLs, OCSP responses), appended to a caller's
// buffer so that a CRL of a million entries is one allocation.
//
// A constructed value is written by nesting, indented like its ASN.1:
//
//   der::Writer w(out);
//   w.sequence([&] {          // SingleResponse ::= SEQUENCE {
//     w.raw(cert_id);         //   certID CertID,
//     w.implicit_null(0x80);  //   certStatus good [0] IMPLICIT NULL,
//     w.generalized_time(t);  //   thisUpdate GeneralizedTime }
//   });
//
// The content is written in place and its length patched in when the lambda returns, so a
// structure's size and its bytes cannot drift apart. A length of 128 or more needs more length
// octets than the one reserved: the content is moved up by them (a memmove, once per level).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "pki/der_tags.hpp"
#include "revocation/types.hpp"

namespace revocore::der {

// Number of octets the definite length `length` takes (X.690 8.1.3).
inline std::size_t length_size(std::size_t length) noexcept {
  if (length < 0x80) {
    return 1;
  }
  std::size_t bytes = 0;
  for (std::size_t l = length; l != 0; l >>= 8) {
    ++bytes;
  }
  return 1 + bytes;
}

// Tag and definite length (one-octet tags only).
inline void header(std::string& out, std::uint8_t tag, std::size_t length) {
  out.push_back(static_cast<char>(tag));
  if (length < 0x80) {
    out.push_back(static_cast<char>(length));
    return;
  }
  const std::size_t bytes = length_size(length) - 1;
  out.push_back(static_cast<char>(0x80 | bytes));
  for (std::size_t i = bytes; i > 0; --i) {
    out.push_back(static_cast<char>((length >> ((i - 1) * 8)) & 0xFF));
  }
}

inline void tlv(std::string& out, std::uint8_t tag, std::string_view content) {
  header(out, tag, content.size());
  out.append(content);
}

// INTEGER content octets of an unsigned number: minimal two's complement.
std::string integer_content(std::uint64_t value);

// RFC 5280 4.1.2.5 and 5.1.2.4: dates through 2049 as UTCTime, from 2050 on as GeneralizedTime.
inline constexpr UnixTime kGeneralizedTimeFrom = 2'524'608'000;  // 2050-01-01T00:00:00Z

class Writer {
 public:
  explicit Writer(std::string& out) noexcept : out_(out) {}

  // A value of tag `tag` whose content `write_content()` writes with this writer.
  template <typename Content>
  void nested(std::uint8_t tag, Content&& write_content) {
    const std::size_t content_start = open(tag);
    write_content();
    close(content_start);
  }
  template <typename Content>
  void sequence(Content&& write_content) {
    nested(kSequence, write_content);
  }
  // [n] EXPLICIT: context-specific, constructed, around the inner value.
  template <typename Content>
  void explicit_tag(unsigned n, Content&& write_content) {
    nested(static_cast<std::uint8_t>(kContext0 + n), write_content);
  }
  // An OCTET STRING holding the DER that `write_content()` writes (an extension's extnValue,
  // ResponseBytes.response).
  template <typename Content>
  void octet_string_of(Content&& write_content) {
    nested(kOctetString, write_content);
  }

  void raw(std::string_view der) { out_.append(der); }  // TLVs already encoded
  void tlv(std::uint8_t tag, std::string_view content) { der::tlv(out_, tag, content); }
  void integer(std::string_view content_octets) { tlv(kInteger, content_octets); }
  void integer(std::uint64_t value) { tlv(kInteger, integer_content(value)); }
  void enumerated(std::uint8_t value);
  void boolean(bool value);
  void octet_string(std::string_view content) { tlv(kOctetString, content); }
  void bit_string(std::string_view octets);  // no unused bits
  void implicit_null(std::uint8_t tag);      // [n] IMPLICIT NULL: the tag, length 0
  void time(UnixTime t);                     // UTCTime or GeneralizedTime by year (see above)
  void generalized_time(UnixTime t);         // always GeneralizedTime (RFC 5280 5.3.2)

 private:
  std::size_t open(std::uint8_t tag) {
    out_.push_back(static_cast<char>(tag));
    out_.push_back('\0');  // the length, patched by close()
    return out_.size();
  }
  void close(std::size_t content_start);

  std::string& out_;
};

}  // namespace revocore::der
