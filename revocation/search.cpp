#include "revocation/search.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_set>

#include "revocation/codec.hpp"
#include "revocation/error.hpp"

namespace revocore {
namespace {

// Name-index entries looked at per query at most: a one-letter word matches many users, and the
// ones after these are not worth a page anyway (the answer says there is more).
constexpr std::size_t kMaxNameEntries = 20'000;

std::string_view trim(std::string_view text) {
  while (!text.empty() && text.front() == ' ') {
    text.remove_prefix(1);
  }
  while (!text.empty() && text.back() == ' ') {
    text.remove_suffix(1);
  }
  return text;
}

// Upper-case hex without colons, or empty when `text` is not a serial (prefix).
std::string serial_prefix(std::string_view text) {
  std::string hex;
  for (const char c : text) {
    if (c == ':') {
      continue;
    }
    if (codec::hex_digit(c) < 0) {
      return {};
    }
    hex += static_cast<char>(c >= 'a' && c <= 'f' ? c - 'a' + 'A' : c);
  }
  return hex.size() <= 2 * Serial::kMaxOctets ? hex : std::string();
}

// Whether every query word starts some word of the name.
bool name_matches(const std::vector<std::string>& query_words, std::string_view name) {
  const std::vector<std::string> words = name_words(name);
  return std::all_of(query_words.begin(), query_words.end(), [&](const std::string& wanted) {
    return std::any_of(words.begin(), words.end(),
                       [&](const std::string& word) { return word.starts_with(wanted); });
  });
}

}  // namespace

SearchPage search(const StoreTransaction& txn, std::string_view query, std::size_t limit,
                  std::size_t offset) {
  query = trim(query);
  if (query.empty()) {
    throw Error(ErrorCode::kInvalidArgument,
                "the search is empty; give a user id or name, a credential id or a certificate "
                "serial (or the start of one)");
  }
  if (query.size() > kMaxSearchQueryBytes) {
    throw Error(ErrorCode::kInvalidArgument,
                fmt::format("the search is {} bytes long; at most {} are taken", query.size(),
                            kMaxSearchQueryBytes));
  }
  if (std::any_of(query.begin(), query.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
    throw Error(ErrorCode::kInvalidArgument, "the search holds a control character; remove it");
  }
  if (limit == 0 || limit > kMaxSearchLimit) {
    throw Error(ErrorCode::kInvalidArgument,
                fmt::format("the limit must be 1 to {}, not {}", kMaxSearchLimit, limit));
  }
  if (offset > kMaxSearchOffset) {
    throw Error(ErrorCode::kInvalidArgument,
                fmt::format("the offset must be at most {}, not {}; narrow the search instead",
                            kMaxSearchOffset, offset));
  }

  // One more than the page, to know whether another page follows.
  const std::size_t wanted = offset + limit + 1;
  std::vector<SearchHit> hits;
  std::unordered_set<std::string> users_found;
  const auto room = [&] { return wanted - std::min(wanted, hits.size()); };

  for (auto& user : txn.users_with_prefix(query, room())) {
    users_found.insert(user.id);
    hits.push_back(SearchHit{SearchHit::Kind::kUser, std::move(user), {}, {}, {}});
  }
  // By name: the index range of the longest word, the other words checked on each user.
  const std::vector<std::string> words = name_words(query);
  if (!words.empty() && room() > 0) {
    const std::string& longest = *std::max_element(
        words.begin(), words.end(),
        [](const std::string& a, const std::string& b) { return a.size() < b.size(); });
    std::size_t looked_at = 0;
    txn.for_each_user_with_name_word(longest, [&](std::string_view id) {
      if (room() == 0 || ++looked_at > kMaxNameEntries) {
        return false;
      }
      if (users_found.contains(std::string(id))) {
        return true;
      }
      auto user = txn.user(id);
      if (user && name_matches(words, user->name)) {
        users_found.insert(user->id);
        hits.push_back(SearchHit{SearchHit::Kind::kUser, std::move(*user), {}, {}, {}});
      }
      return true;
    });
  }
  if (room() > 0) {
    for (auto& credential : txn.credentials_with_prefix(query, room())) {
      hits.push_back(SearchHit{SearchHit::Kind::kCredential, {}, std::move(credential), {}, {}});
    }
  }
  // Certificates: SERIAL in every issuer, or ISSUER/SERIAL in one.
  std::vector<IssuerRecord> issuers;
  std::string serial = serial_prefix(query);
  if (const std::size_t slash = query.rfind('/'); slash != std::string_view::npos) {
    serial = serial_prefix(query.substr(slash + 1));
    if (auto issuer = txn.issuer_by_name(query.substr(0, slash))) {
      issuers.push_back(std::move(*issuer));
    }
  } else if (!serial.empty()) {
    issuers = txn.issuers();
  }
  for (const auto& issuer : issuers) {
    if (serial.empty() || room() == 0) {
      break;
    }
    for (auto& [key, record] : txn.certificates_with_serial_prefix(issuer.id, serial, room())) {
      hits.push_back(SearchHit{SearchHit::Kind::kCertificate, {}, {}, key, std::move(record)});
    }
  }

  SearchPage page;
  page.more = hits.size() > offset + limit;
  if (hits.size() > offset) {
    const std::size_t end = std::min(hits.size(), offset + limit);
    page.hits.assign(std::make_move_iterator(hits.begin() + static_cast<std::ptrdiff_t>(offset)),
                     std::make_move_iterator(hits.begin() + static_cast<std::ptrdiff_t>(end)));
  }
  return page;
}

}  // namespace revocore
