// Per-row buffers of the engine: the columns it fills for millions of rows. Two things make
// them cheaper than plain std::vector at that size:
// - large blocks are backed by transparent huge pages where the kernel allows them
//   (madvise), so random access over hundreds of MB (grouping rows by user, scattering
//   verdicts back to row order) misses the TLB far less and first touch faults 512x
//   less often;
// - resize() leaves elements default-initialised (no zero fill for arithmetic types;
//   member initialisers still run): every buffer is written completely by the pass that
//   produces it, and zeroing 100s of MB first costs as much as the pass itself.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace waconv {

template <class T>
class RowAllocator {
 public:
  using value_type = T;

  RowAllocator() = default;
  template <class U>
  RowAllocator(const RowAllocator<U>&) noexcept {}  // NOLINT: allocators convert implicitly

  T* allocate(std::size_t n) {
    const std::size_t bytes = n * sizeof(T);
    if (bytes < kHugeFrom) return static_cast<T*>(::operator new(bytes, std::align_val_t{alignof(T)}));
    const std::size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
    void* p = std::aligned_alloc(kHugePage, rounded);
    if (p == nullptr) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    ::madvise(p, rounded, MADV_HUGEPAGE);  // advice only: failure leaves normal pages
#endif
    return static_cast<T*>(p);
  }

  void deallocate(T* p, std::size_t n) noexcept {
    if (n * sizeof(T) < kHugeFrom) {
      ::operator delete(p, std::align_val_t{alignof(T)});
    } else {
      std::free(p);
    }
  }

  // Value-less construction default-initialises (no zero fill for arithmetic types).
  template <class U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }

  friend bool operator==(const RowAllocator&, const RowAllocator&) { return true; }
  friend bool operator!=(const RowAllocator&, const RowAllocator&) { return false; }

 private:
  static constexpr std::size_t kHugePage = std::size_t{2} << 20;
  static constexpr std::size_t kHugeFrom = std::size_t{4} << 20;
};

// A column with one value per input row (or per conversation, window, record).
template <class T>
using RowBuffer = std::vector<T, RowAllocator<T>>;

}  // namespace waconv
