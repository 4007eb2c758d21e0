#pragma once
// RFC 8259 4 leaves an object with duplicate names to the parser ("the names within an object
// SHOULD be unique"); Boost.JSON keeps the last one. A request body that says "target" twice is
// ambiguous (another component in front of revocore may read the first), so the operator API
// refuses it.
#include <optional>
#include <string>
#include <string_view>

namespace revocore::api {

// The first name that appears twice in one object of `json` (which must already have parsed);
// nothing when every object's names are unique.
std::optional<std::string> first_duplicate_key(std::string_view json);

}  // namespace revocore::api
