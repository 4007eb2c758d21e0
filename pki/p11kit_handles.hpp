#pragma once
// RAII for p11-kit's handles: a parsed PKCS#11 URI and loaded PKCS#11 modules. The only place in
// revocore that frees or finalizes them.
#include <p11-kit/p11-kit.h>
#include <p11-kit/uri.h>

#include <memory>
#include <utility>

namespace revocore::pki {

struct P11KitUriFree {
  void operator()(P11KitUri* uri) const noexcept { ::p11_kit_uri_free(uri); }
};
using ScopedP11KitUri = std::unique_ptr<P11KitUri, P11KitUriFree>;

// One module loaded and initialized through p11-kit (managed: its sessions are ours alone), or
// every module p11-kit's configuration registers. Finalized and released on destruction.
class Pkcs11Modules {
 public:
  Pkcs11Modules() = default;
  // Takes a module p11_kit_module_load returned and p11_kit_module_initialize accepted.
  explicit Pkcs11Modules(CK_FUNCTION_LIST* one) : one_(one) {}
  // Takes the list p11_kit_modules_load_and_initialize returned.
  explicit Pkcs11Modules(CK_FUNCTION_LIST** registered) : registered_(registered) {}
  ~Pkcs11Modules() { reset(); }
  Pkcs11Modules(Pkcs11Modules&& other) noexcept
      : one_(std::exchange(other.one_, nullptr)),
        registered_(std::exchange(other.registered_, nullptr)) {}
  Pkcs11Modules& operator=(Pkcs11Modules&& other) noexcept {
    if (this != &other) {
      reset();
      one_ = std::exchange(other.one_, nullptr);
      registered_ = std::exchange(other.registered_, nullptr);
    }
    return *this;
  }
  Pkcs11Modules(const Pkcs11Modules&) = delete;
  Pkcs11Modules& operator=(const Pkcs11Modules&) = delete;

  // Finalizes and initializes the modules again: a module that lists slots only when it starts
  // (SoftHSM2) sees a token that came back. Only while no session of ours is open.
  CK_RV restart() noexcept {
    if (one_ != nullptr) {
      ::p11_kit_module_finalize(one_);
      return ::p11_kit_module_initialize(one_);
    }
    if (registered_ != nullptr) {
      ::p11_kit_modules_finalize(registered_);
      return ::p11_kit_modules_initialize(registered_, nullptr);
    }
    return CKR_OK;
  }

  // Calls `visit(CK_FUNCTION_LIST*)` for each module until it returns true.
  template <typename Visit>
  void find(Visit&& visit) const {
    if (one_ != nullptr) {
      visit(one_);
      return;
    }
    for (CK_FUNCTION_LIST** m = registered_; m != nullptr && *m != nullptr; ++m) {
      if (visit(*m)) {
        return;
      }
    }
  }

 private:
  void reset() noexcept {
    if (one_ != nullptr) {
      ::p11_kit_module_finalize(one_);
      ::p11_kit_module_release(one_);
      one_ = nullptr;
    }
    if (registered_ != nullptr) {
      ::p11_kit_modules_finalize_and_release(registered_);
      registered_ = nullptr;
    }
  }
  CK_FUNCTION_LIST* one_ = nullptr;
  CK_FUNCTION_LIST** registered_ = nullptr;
};

}  // namespace revocore::pki
