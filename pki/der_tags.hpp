#pragma once
// The DER (X.690 8.1.2) tags revocore reads and writes, one octet each.
#include <cstdint>

namespace revocore::der {

inline constexpr std::uint8_t kBoolean = 0x01;
inline constexpr std::uint8_t kInteger = 0x02;
inline constexpr std::uint8_t kBitString = 0x03;
inline constexpr std::uint8_t kOctetString = 0x04;
inline constexpr std::uint8_t kOid = 0x06;
inline constexpr std::uint8_t kEnumerated = 0x0A;
inline constexpr std::uint8_t kUtcTime = 0x17;
inline constexpr std::uint8_t kGeneralizedTime = 0x18;
inline constexpr std::uint8_t kSequence = 0x30;
// [n] EXPLICIT, or [n] IMPLICIT of a constructed type: context-specific and constructed.
inline constexpr std::uint8_t kContext0 = 0xA0;
inline constexpr std::uint8_t kContext1 = 0xA1;
inline constexpr std::uint8_t kContext2 = 0xA2;
// [n] IMPLICIT of a primitive type: context-specific, primitive.
inline constexpr std::uint8_t kContextPrimitive0 = 0x80;
inline constexpr std::uint8_t kContextPrimitive2 = 0x82;
inline constexpr std::uint8_t kContextPrimitive6 = 0x86;  // GeneralName uniformResourceIdentifier

}  // namespace revocore::der
