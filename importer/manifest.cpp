#include "importer/manifest.hpp"

#include <fmt/format.h>
#include <boost/json.hpp>

#include <fstream>
#include <map>
#include <sstream>

#include "revocation/error.hpp"

namespace revocore::importer {
namespace {

constexpr std::string_view kColumns[] = {"certificate", "credential", "type", "user", "user_name"};

[[noreturn]] void fail(std::string_view source, std::size_t line, std::string_view message) {
  throw Error(ErrorCode::kInvalidManifest, fmt::format("{}:{}: {}", source, line, message));
}

// One CSV record (RFC 4180 quoting: "a, b" and "say ""hi""").
std::vector<std::string> split_csv(std::string_view line, std::string_view source,
                                   std::size_t number) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back().push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back().push_back(c);
      }
    } else if (c == '"' && fields.back().empty()) {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else {
      fields.back().push_back(c);
    }
  }
  if (quoted) {
    fail(source, number, "a quoted field is not closed");
  }
  for (auto& field : fields) {
    const auto first = field.find_first_not_of(" \t");
    const auto last = field.find_last_not_of(" \t");
    field = first == std::string::npos ? std::string() : field.substr(first, last - first + 1);
  }
  return fields;
}

// Fills and checks an entry from named fields, whatever the format.
ManifestEntry make_entry(const std::map<std::string, std::string>& fields, std::string_view source,
                         std::size_t line) {
  auto field = [&](const char* name) -> std::string {
    const auto it = fields.find(name);
    return it == fields.end() ? std::string() : it->second;
  };
  ManifestEntry entry;
  entry.line = line;
  for (const char* required : {"certificate", "credential", "type", "user"}) {
    if (field(required).empty()) {
      fail(source, line,
           fmt::format("'{}' is empty; every line needs certificate, credential, "
                       "type and user",
                       required));
    }
  }
  entry.certificate = field("certificate");
  entry.credential_id = field("credential");
  entry.user_id = field("user");
  entry.user_name = field("user_name");
  const auto type = parse_credential_type(field("type"));
  if (!type) {
    fail(source, line,
         fmt::format("unknown credential type '{}'; use card, temporary_card, "
                     "virtual_smart_card, mobile_id or soft_token",
                     field("type")));
  }
  entry.type = *type;
  try {
    check_identifier(entry.user_id, "user id");
    check_identifier(entry.credential_id, "credential id");
  } catch (const Error& e) {
    fail(source, line, e.what());
  }
  return entry;
}

std::vector<ManifestEntry> parse_json_lines(std::string_view text, std::string_view source) {
  std::vector<ManifestEntry> entries;
  std::istringstream in{std::string(text)};
  std::string line;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) {
      continue;
    }
    boost::system::error_code ec;
    const boost::json::value value = boost::json::parse(line, ec);
    if (ec || !value.is_object()) {
      fail(source, number,
           fmt::format("not a JSON object ({})",
                       ec ? ec.message() : "a JSON value of another kind"));
    }
    std::map<std::string, std::string> fields;
    for (const auto& [key, field] : value.as_object()) {
      const std::string name(key);
      if (std::find(std::begin(kColumns), std::end(kColumns), name) == std::end(kColumns)) {
        fail(source, number,
             fmt::format("unknown field '{}'; fields are certificate, credential, "
                         "type, user, user_name",
                         name));
      }
      if (!field.is_string()) {
        fail(source, number, fmt::format("field '{}' must be a string", name));
      }
      fields[name] = std::string(field.as_string());
    }
    entries.push_back(make_entry(fields, source, number));
  }
  return entries;
}

std::vector<ManifestEntry> parse_csv(std::string_view text, std::string_view source) {
  std::vector<ManifestEntry> entries;
  std::istringstream in{std::string(text)};
  std::string line;
  std::vector<std::string> header;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    if (line.find_first_not_of(" \t") == std::string::npos || line[0] == '#') {
      continue;
    }
    std::vector<std::string> fields = split_csv(line, source, number);
    if (header.empty()) {
      for (const auto& name : fields) {
        if (std::find(std::begin(kColumns), std::end(kColumns), name) == std::end(kColumns)) {
          fail(source, number,
               fmt::format("unknown column '{}' in the header; columns are "
                           "certificate, credential, type, user, user_name",
                           name));
        }
      }
      header = std::move(fields);
      continue;
    }
    if (fields.size() != header.size()) {
      fail(source, number,
           fmt::format("{} fields where the header names {}", fields.size(), header.size()));
    }
    std::map<std::string, std::string> named;
    for (std::size_t i = 0; i < header.size(); ++i) {
      named[header[i]] = fields[i];
    }
    entries.push_back(make_entry(named, source, number));
  }
  if (header.empty()) {
    throw Error(ErrorCode::kInvalidManifest,
                fmt::format("{} is empty; a CSV manifest starts with the header "
                            "certificate,credential,type,user,user_name",
                            source));
  }
  return entries;
}

}  // namespace

void check_identifier(std::string_view id, std::string_view what) {
  if (id.empty() || id.size() > 128) {
    throw Error(ErrorCode::kInvalidArgument,
                fmt::format("{} '{}' must be 1 to 128 characters long", what, id));
  }
  for (const char c : id) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
      throw Error(ErrorCode::kInvalidArgument,
                  fmt::format("{} '{}' contains a control character", what, id));
    }
  }
}

std::vector<ManifestEntry> parse_manifest(std::string_view text, std::string_view source) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && text[first] == '{') {
    return parse_json_lines(text, source);
  }
  return parse_csv(text, source);
}

std::vector<ManifestEntry> load_manifest(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    throw Error(ErrorCode::kInvalidManifest,
                fmt::format("cannot read the manifest {}", file.string()));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_manifest(text.str(), file.string());
}

}  // namespace revocore::importer
