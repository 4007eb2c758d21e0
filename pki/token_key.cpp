#include "pki/token_key.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>

#include <cstdlib>
#include <mutex>
#include <vector>

#include "pki/p11kit_handles.hpp"
#include "revocation/error.hpp"
#include "revocation/posix_file.hpp"

namespace revocore::pki {
namespace {

// A PIN read for one C_Login, wiped when it goes (OPENSSL_cleanse cannot be optimised away).
class Pin {
 public:
  explicit Pin(std::string_view value) : value_(value) {}
  ~Pin() { ::OPENSSL_cleanse(value_.data(), value_.size()); }
  // The copy is wiped in the source, so a PIN lives in one place at a time.
  Pin(Pin&& other) noexcept : value_(other.value_) {
    ::OPENSSL_cleanse(other.value_.data(), other.value_.size());
  }
  Pin(const Pin&) = delete;
  Pin& operator=(const Pin&) = delete;
  CK_UTF8CHAR_PTR data() noexcept { return reinterpret_cast<CK_UTF8CHAR_PTR>(value_.data()); }
  CK_ULONG size() const noexcept { return static_cast<CK_ULONG>(value_.size()); }

 private:
  std::string value_;
};

// What says the token has gone away or lost our sessions: reopen it on the next signature.
bool means_token_gone(CK_RV rv) noexcept {
  switch (rv) {
    case CKR_DEVICE_REMOVED:
    case CKR_DEVICE_ERROR:
    case CKR_TOKEN_NOT_PRESENT:
    case CKR_TOKEN_NOT_RECOGNIZED:
    case CKR_SESSION_HANDLE_INVALID:
    case CKR_SESSION_CLOSED:
    case CKR_USER_NOT_LOGGED_IN:
    case CKR_KEY_HANDLE_INVALID:
    case CKR_OBJECT_HANDLE_INVALID:
    case CKR_CRYPTOKI_NOT_INITIALIZED:
      return true;
    default:
      return false;
  }
}

std::string rv_text(CK_RV rv) {
  return fmt::format("{} (0x{:x})", ::p11_kit_strerror(rv), rv);
}

}  // namespace

struct TokenKey::State {
  std::string owner;
  std::string uri;  // as configured; it holds no PIN (pin-value is refused)
  ScopedP11KitUri parsed;
  std::string pin_source;
  Pkcs11Modules modules;

  std::mutex mutex;  // guards everything below
  CK_FUNCTION_LIST* module = nullptr;
  CK_SLOT_ID slot = 0;
  CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
  CK_KEY_TYPE key_type = 0;
  std::vector<CK_SESSION_HANDLE> idle;
  std::size_t busy = 0;      // sessions out signing
  bool open = false;         // slot, key and login are good
  bool was_open = false;     // it worked once: reopening may need the module restarted
  bool pin_refused = false;  // never log in again: a token locks after a few wrong PINs
  std::string last_failure;  // why it is not open, for the next error

  [[noreturn]] void fail(ErrorCode code, std::string_view what) const {
    throw Error(code, fmt::format("{}: PKCS#11 key {}: {}", owner, uri, what));
  }

  Pin read_pin() const;
  void connect();  // finds the slot, logs in, finds the key; `mutex` held
  bool find_slot(CK_TOKEN_INFO& token);
  void disconnect() noexcept;
  CK_SESSION_HANDLE take_session();
  void give_back(CK_SESSION_HANDLE session);
};

Pin TokenKey::State::read_pin() const {
  if (pin_source.starts_with("env:")) {
    const std::string name = pin_source.substr(4);
    const char* value = std::getenv(name.c_str());
    if (value == nullptr || *value == '\0') {
      fail(ErrorCode::kInvalidConfig,
           fmt::format("the PIN's environment variable {} is not set", name));
    }
    return Pin(value);
  }
  std::string path = pin_source;
  if (path.starts_with("file:")) {
    path.erase(0, 5);
  }
  constexpr std::size_t kMaxPinFileBytes = 4096;
  RegularFile file;
  try {
    file = read_regular_file(path, kMaxPinFileBytes, ErrorCode::kInvalidConfig, "the PIN file");
  } catch (const Error& e) {
    fail(ErrorCode::kInvalidConfig, e.what());
  }
  if ((file.mode & 077) != 0) {
    ::OPENSSL_cleanse(file.bytes.data(), file.bytes.size());
    fail(ErrorCode::kInvalidConfig,
         fmt::format("the PIN file {} is readable by group or others (mode {:o}); run `chmod "
                     "600 {}`",
                     path, file.mode & 0777, path));
  }
  // A trailing newline, as `echo` writes, is not part of the PIN.
  while (!file.bytes.empty() && (file.bytes.back() == '\n' || file.bytes.back() == '\r')) {
    file.bytes.pop_back();
  }
  Pin pin(file.bytes);
  ::OPENSSL_cleanse(file.bytes.data(), file.bytes.size());
  return pin;
}

bool TokenKey::State::find_slot(CK_TOKEN_INFO& token) {
  module = nullptr;
  modules.find([&](CK_FUNCTION_LIST* candidate) {
    CK_ULONG count = 0;
    if (candidate->C_GetSlotList(CK_TRUE, nullptr, &count) != CKR_OK || count == 0) {
      return false;
    }
    std::vector<CK_SLOT_ID> slots(count);
    if (candidate->C_GetSlotList(CK_TRUE, slots.data(), &count) != CKR_OK) {
      return false;
    }
    for (CK_ULONG i = 0; i < count; ++i) {
      CK_TOKEN_INFO info{};
      if (candidate->C_GetTokenInfo(slots[i], &info) == CKR_OK &&
          ::p11_kit_uri_match_token_info(parsed.get(), &info) == 1) {
        module = candidate;
        slot = slots[i];
        token = info;
        return true;
      }
    }
    return false;
  });
  return module != nullptr;
}

void TokenKey::State::connect() {
  if (pin_refused) {
    fail(ErrorCode::kSigning, last_failure);
  }
  CK_TOKEN_INFO token{};
  bool slot_found = find_slot(token);
  if (!slot_found && was_open && busy == 0) {
    // The token went away and may be back: some modules list slots only when they start.
    slot_found = modules.restart() == CKR_OK && find_slot(token);
  }
  if (!slot_found) {
    fail(ErrorCode::kSigning,
         "no token matches it (absent, or another label); `pkcs11-tool --module MODULE "
         "--list-slots` shows the tokens present");
  }
  CK_SESSION_HANDLE session = CK_INVALID_HANDLE;
  CK_RV rv = module->C_OpenSession(slot, CKF_SERIAL_SESSION, nullptr, nullptr, &session);
  if (rv != CKR_OK) {
    fail(ErrorCode::kSigning, fmt::format("cannot open a session: {}", rv_text(rv)));
  }
  if (token.flags & CKF_LOGIN_REQUIRED) {
    if (pin_source.empty()) {
      module->C_CloseSession(session);
      fail(ErrorCode::kInvalidConfig,
           "the token needs a PIN: add pin-source=file:PATH (a file readable by revocore only) "
           "to the URI");
    }
    Pin pin = read_pin();
    rv = module->C_Login(session, CKU_USER, pin.data(), pin.size());
    if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LOCKED || rv == CKR_PIN_EXPIRED ||
        rv == CKR_PIN_INVALID || rv == CKR_PIN_LEN_RANGE) {
      module->C_CloseSession(session);
      pin_refused = true;
      last_failure = fmt::format(
          "the token refused the PIN from {}: {}. revocore does not try again (a token locks "
          "itself after a few wrong PINs): correct the PIN and restart",
          pin_source, rv_text(rv));
      fail(ErrorCode::kInvalidConfig, last_failure);
    }
    if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
      module->C_CloseSession(session);
      fail(ErrorCode::kSigning, fmt::format("cannot log in: {}", rv_text(rv)));
    }
  }

  // The private key: class, then the label (object=) and id (id=) the URI gives.
  CK_OBJECT_CLASS private_class = CKO_PRIVATE_KEY;
  std::vector<CK_ATTRIBUTE> search{{CKA_CLASS, &private_class, sizeof private_class}};
  for (const CK_ATTRIBUTE_TYPE type : {CKA_LABEL, CKA_ID}) {
    if (const CK_ATTRIBUTE* attribute = ::p11_kit_uri_get_attribute(parsed.get(), type)) {
      search.push_back(*attribute);
    }
  }
  CK_OBJECT_HANDLE found[2];
  CK_ULONG found_count = 0;
  rv = module->C_FindObjectsInit(session, search.data(), static_cast<CK_ULONG>(search.size()));
  if (rv == CKR_OK) {
    rv = module->C_FindObjects(session, found, 2, &found_count);
    module->C_FindObjectsFinal(session);
  }
  if (rv != CKR_OK || found_count != 1) {
    module->C_CloseSession(session);
    if (rv != CKR_OK) {
      fail(ErrorCode::kSigning, fmt::format("cannot search the token: {}", rv_text(rv)));
    }
    fail(ErrorCode::kInvalidConfig,
         found_count == 0 ? "the token holds no private key of that object label and id; "
                            "`pkcs11-tool --list-objects --type privkey --login` lists them"
                          : "more than one private key matches; name one with id=");
  }
  key = found[0];
  CK_KEY_TYPE type = 0;
  CK_ATTRIBUTE type_attribute{CKA_KEY_TYPE, &type, sizeof type};
  rv = module->C_GetAttributeValue(session, key, &type_attribute, 1);
  if (rv != CKR_OK) {
    module->C_CloseSession(session);
    fail(ErrorCode::kSigning, fmt::format("cannot read the key's type: {}", rv_text(rv)));
  }
  if (was_open && type != key_type) {
    module->C_CloseSession(session);
    fail(ErrorCode::kSigning, "the token came back with a key of another type under that name");
  }
  key_type = type;
  idle.push_back(session);
  open = true;
  was_open = true;
}

void TokenKey::State::disconnect() noexcept {
  if (module != nullptr) {
    // Sessions of a removed token are gone already; closing them all also logs out.
    module->C_CloseAllSessions(slot);
  }
  idle.clear();
  open = false;
}

CK_SESSION_HANDLE TokenKey::State::take_session() {
  const std::lock_guard lock(mutex);
  if (!open) {
    connect();  // throws while the token is absent; the caller answers internalError
  }
  if (!idle.empty()) {
    const CK_SESSION_HANDLE session = idle.back();
    idle.pop_back();
    ++busy;
    return session;
  }
  // Another signature at the same time: one more session, logged in with the first.
  CK_SESSION_HANDLE session = CK_INVALID_HANDLE;
  const CK_RV rv = module->C_OpenSession(slot, CKF_SERIAL_SESSION, nullptr, nullptr, &session);
  if (rv != CKR_OK) {
    if (means_token_gone(rv)) {
      disconnect();
    }
    fail(ErrorCode::kSigning, fmt::format("cannot open a session: {}", rv_text(rv)));
  }
  ++busy;
  return session;
}

void TokenKey::State::give_back(CK_SESSION_HANDLE session) {
  const std::lock_guard lock(mutex);
  --busy;
  if (open) {
    idle.push_back(session);
  }
}

TokenKey::TokenKey(std::unique_ptr<State> state) : state_(std::move(state)) {}

TokenKey::~TokenKey() {
  const std::lock_guard lock(state_->mutex);
  state_->disconnect();
}

const std::string& TokenKey::uri() const noexcept {
  return state_->uri;
}
unsigned long TokenKey::key_type() const noexcept {
  return state_->key_type;
}

std::unique_ptr<TokenKey> TokenKey::open(std::string_view owner, std::string_view uri,
                                         const std::filesystem::path& module) {
  auto state = std::make_unique<State>();
  state->owner = std::string(owner);
  state->uri = std::string(uri);
  state->parsed.reset(::p11_kit_uri_new());
  const int parsed = ::p11_kit_uri_parse(
      state->uri.c_str(), P11_KIT_URI_FOR_OBJECT_ON_TOKEN_AND_MODULE, state->parsed.get());
  if (parsed != P11_KIT_URI_OK) {
    // Not the URI itself: it may hold a PIN after all.
    throw Error(ErrorCode::kInvalidConfig,
                fmt::format("{}: the private key is not a valid PKCS#11 URI (RFC 7512): {}", owner,
                            ::p11_kit_uri_message(parsed)));
  }
  if (::p11_kit_uri_get_pin_value(state->parsed.get()) != nullptr) {
    throw Error(ErrorCode::kInvalidConfig,
                fmt::format("{}: the PKCS#11 URI holds a pin-value; a PIN must not be written in "
                            "the configuration: put it in a file readable by revocore only and "
                            "name it with pin-source=file:PATH",
                            owner));
  }
  if (const CK_ATTRIBUTE* type = ::p11_kit_uri_get_attribute(state->parsed.get(), CKA_CLASS);
      type != nullptr && (type->ulValueLen != sizeof(CK_OBJECT_CLASS) ||
                          *static_cast<const CK_OBJECT_CLASS*>(type->pValue) != CKO_PRIVATE_KEY)) {
    state->fail(ErrorCode::kInvalidConfig, "type= must be private for a signing key");
  }
  if (::p11_kit_uri_get_attribute(state->parsed.get(), CKA_LABEL) == nullptr &&
      ::p11_kit_uri_get_attribute(state->parsed.get(), CKA_ID) == nullptr) {
    state->fail(ErrorCode::kInvalidConfig, "name the key with object=LABEL or id=ID");
  }
  if (const char* source = ::p11_kit_uri_get_pin_source(state->parsed.get())) {
    state->pin_source = source;
    const std::string_view path = std::string_view(state->pin_source).starts_with("file:")
                                      ? std::string_view(state->pin_source).substr(5)
                                      : std::string_view(state->pin_source);
    if (!state->pin_source.starts_with("env:") && !path.starts_with('/')) {
      state->fail(ErrorCode::kInvalidConfig,
                  "pin-source must be an absolute file name (file:/etc/revocore/pin) or env:NAME");
    }
  }

  std::string module_path = module.string();
  if (module_path.empty()) {
    if (const char* from_uri = ::p11_kit_uri_get_module_path(state->parsed.get())) {
      module_path = from_uri;
    }
  }
  if (!module_path.empty()) {
    CK_FUNCTION_LIST* loaded = ::p11_kit_module_load(module_path.c_str(), 0);
    if (loaded == nullptr) {
      state->fail(ErrorCode::kInvalidConfig,
                  fmt::format("cannot load the PKCS#11 module {}: {}", module_path,
                              ::p11_kit_message() ? ::p11_kit_message() : "unknown reason"));
    }
    const CK_RV rv = ::p11_kit_module_initialize(loaded);
    if (rv != CKR_OK) {
      ::p11_kit_module_release(loaded);
      state->fail(ErrorCode::kInvalidConfig, fmt::format("the PKCS#11 module {} does not start: {}",
                                                         module_path, rv_text(rv)));
    }
    state->modules = Pkcs11Modules(loaded);
  } else {
    CK_FUNCTION_LIST** registered = ::p11_kit_modules_load_and_initialize(0);
    if (registered == nullptr || registered[0] == nullptr) {
      if (registered != nullptr) {
        ::p11_kit_modules_finalize_and_release(registered);
      }
      state->fail(ErrorCode::kInvalidConfig,
                  "no PKCS#11 module is registered with p11-kit; set pkcs11_module to the "
                  "module's path (SoftHSM2: /usr/lib/softhsm/libsofthsm2.so)");
    }
    state->modules = Pkcs11Modules(registered);
  }
  {
    const std::lock_guard lock(state->mutex);
    state->connect();
  }
  return std::unique_ptr<TokenKey>(new TokenKey(std::move(state)));
}

void TokenKey::sign(Mechanism mechanism, std::string_view input, std::string& out) const {
  State& s = *state_;
  const CK_SESSION_HANDLE session = s.take_session();
  CK_MECHANISM mech{};
  switch (mechanism) {
    case Mechanism::kEcdsa:
      mech.mechanism = CKM_ECDSA;
      break;
    case Mechanism::kRsaPkcs1:
      mech.mechanism = CKM_RSA_PKCS;
      break;
    case Mechanism::kEddsa:
      mech.mechanism = CKM_EDDSA;
      break;
  }
  auto* data = reinterpret_cast<CK_BYTE_PTR>(const_cast<char*>(input.data()));
  // One C_Sign into a buffer large enough for any key revocore takes (RSA 4096: 512 octets)
  // rather than asking the size first; a token that wants more says so and keeps the operation.
  constexpr std::size_t kSignatureRoom = 1024;
  out.resize(kSignatureRoom);
  CK_ULONG length = kSignatureRoom;
  CK_RV rv = s.module->C_SignInit(session, &mech, s.key);
  if (rv == CKR_OK) {
    rv = s.module->C_Sign(session, data, static_cast<CK_ULONG>(input.size()),
                          reinterpret_cast<CK_BYTE_PTR>(out.data()), &length);
  }
  if (rv == CKR_BUFFER_TOO_SMALL) {
    out.resize(length);
    rv = s.module->C_Sign(session, data, static_cast<CK_ULONG>(input.size()),
                          reinterpret_cast<CK_BYTE_PTR>(out.data()), &length);
  }
  if (rv != CKR_OK) {
    if (means_token_gone(rv)) {
      const std::lock_guard lock(s.mutex);
      --s.busy;
      s.disconnect();
      s.fail(ErrorCode::kSigning,
             fmt::format("the token failed or was removed ({}); revocore opens it again at the "
                         "next signature",
                         rv_text(rv)));
    }
    // A C_Sign that fails ends the operation (PKCS#11 5.13); the session stays usable.
    s.give_back(session);
    s.fail(ErrorCode::kSigning, fmt::format("signing failed: {}", rv_text(rv)));
  }
  out.resize(length);
  s.give_back(session);
}

}  // namespace revocore::pki
