// Internal: how the core hashes strings, shared by the factorizer of id columns
// (strings.cpp) and the duplicate check of message ids (duplicates.cpp), so both read a
// string's bytes the same way: its first 24 bytes as three big-endian words (a Key), the
// rest only for longer strings, mixed by wyhash's multiply-fold.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace waconv::detail {

// ---------------------------------------------------------------------------------------
// Words and hashing

inline std::uint64_t byteswap64(std::uint64_t x) {
#if defined(__GNUC__) || defined(__clang__)
  return __builtin_bswap64(x);
#else
  std::uint64_t out = 0;
  for (int i = 0; i < 8; ++i) out = (out << 8) | ((x >> (8 * i)) & 0xff);
  return out;
#endif
}

inline std::uint64_t load_big_endian(const char* p) {
  std::uint64_t word;
  std::memcpy(&word, p, 8);  // compiles to one unaligned load
  if constexpr (std::endian::native == std::endian::little) word = byteswap64(word);
  return word;
}

// Keeps the first `bytes` (0-8) bytes of a big-endian word, zeroing the rest.
inline std::uint64_t keep_leading_bytes(std::uint64_t word, std::size_t bytes) {
  return bytes >= 8 ? word : word & ~(~std::uint64_t{0} >> (8 * bytes));
}

// Up to 8 bytes at p as a big-endian word, zero-padded on the right. `end` bounds what may be
// read: away from it one 8-byte load and a mask beat a variable-length copy.
inline std::uint64_t load_word(const char* p, std::size_t n, const char* end) {
  if (n == 0) return 0;
  if (end - p >= 8) return keep_leading_bytes(load_big_endian(p), n);
  std::uint64_t word = 0;
  std::memcpy(&word, p, n);
  if constexpr (std::endian::native == std::endian::little) word = byteswap64(word);
  return word;
}

// 64x64 -> 128-bit multiply folded to 64 bits: the mixing step of wyhash. Every input bit
// reaches the middle of the product, and folding the halves spreads it to the low bits,
// which pick the table slot.
inline std::uint64_t mix(std::uint64_t a, std::uint64_t b) {
#if defined(__SIZEOF_INT128__)
  __extension__ using uint128 = unsigned __int128;  // GCC/Clang extension: silences -Wpedantic
  const uint128 product = static_cast<uint128>(a) * b;
  return static_cast<std::uint64_t>(product) ^ static_cast<std::uint64_t>(product >> 64);
#else
  const std::uint64_t a_lo = a & 0xffffffff, a_hi = a >> 32, b_lo = b & 0xffffffff, b_hi = b >> 32;
  const std::uint64_t lo_lo = a_lo * b_lo, hi_lo = a_hi * b_lo, lo_hi = a_lo * b_hi, hi_hi = a_hi * b_hi;
  const std::uint64_t cross = (lo_lo >> 32) + (hi_lo & 0xffffffff) + lo_hi;
  const std::uint64_t high = hi_hi + (hi_lo >> 32) + (cross >> 32);
  const std::uint64_t low = (cross << 32) | (lo_lo & 0xffffffff);
  return low ^ high;
#endif
}

// wyhash's default secrets: odd constants with balanced bits.
constexpr std::uint64_t kSecret0 = 0xa0761d6478bd642full;
constexpr std::uint64_t kSecret1 = 0xe7037ed1a0b428dbull;
constexpr std::uint64_t kSecret2 = 0x8ebc6af09c88c6e3ull;
constexpr std::uint64_t kSecret3 = 0x589965cc75374cc3ull;

// Strings are compared through their first 24 bytes held inline: enough for phone numbers
// ("+5511987654321") and BSUIDs ("DE.13491208655302741918").
constexpr std::size_t kHeadWords = 3;
constexpr std::size_t kHeadBytes = 8 * kHeadWords;

// A string as the hash table and the sort see it. For strings of at most 24 bytes the head
// and length are the whole string, so equality and order need no access to the data buffer.
struct Key {
  std::uint64_t head[kHeadWords] = {};  // bytes 0-23 as big-endian words, zero-padded
  std::uint32_t length = 0;  // truncated for strings >= 4 GiB: only a filter, the tail compare decides
  std::int32_t id = -1;      // in the table: index of the distinct string, -1 for an empty slot
};
static_assert(sizeof(Key) == 32);

// How many of a string's n bytes fall in its word i.
inline std::size_t bytes_in_word(std::size_t n, std::size_t i) {
  return std::min<std::size_t>(n - std::min(n, 8 * i), 8);
}

// The hash of a string from its head words and length and, for strings longer than the head,
// its remaining bytes (`s` is the whole string, only read past the head; may be empty for
// short strings).
inline std::uint64_t hash_of(std::uint64_t word0, std::uint64_t word1, std::uint64_t word2, std::uint32_t length,
                      std::string_view s, const char* end) {
  std::uint64_t h = mix(word0 ^ kSecret0, word1 ^ kSecret1);
  h = mix(h ^ kSecret2, word2 ^ kSecret3);
  for (std::size_t i = kHeadBytes; i < s.size(); i += 8) {
    h = mix(h ^ kSecret2, load_word(s.data() + i, std::min<std::size_t>(s.size() - i, 8), end) ^ kSecret0);
  }
  // The length goes in last so that "a" and "a\0" (same zero-padded words) differ.
  return mix(h ^ kSecret3, length ^ kSecret1);
}

inline std::uint64_t hash_of(const Key& key, std::string_view s, const char* end) {
  return hash_of(key.head[0], key.head[1], key.head[2], key.length, s, end);
}

// Fills `key` from the string and returns its hash. The words are hashed from registers, not
// re-read from `key`: reading back a just-stored struct stalls on store forwarding.
inline std::uint64_t make_key(std::string_view s, const char* end, Key& key) {
  static_assert(kHeadWords == 3);
  const char* p = s.data();
  const std::size_t n = s.size();
  std::uint64_t word0, word1, word2;
  if (end - p >= static_cast<std::ptrdiff_t>(kHeadBytes)) {
    // The common case: plain loads, reading past a short string but inside the buffer.
    word0 = keep_leading_bytes(load_big_endian(p), bytes_in_word(n, 0));
    word1 = keep_leading_bytes(load_big_endian(p + 8), bytes_in_word(n, 1));
    word2 = keep_leading_bytes(load_big_endian(p + 16), bytes_in_word(n, 2));
  } else {
    word0 = load_word(p, bytes_in_word(n, 0), end);
    word1 = load_word(p + 8, bytes_in_word(n, 1), end);
    word2 = load_word(p + 16, bytes_in_word(n, 2), end);
  }
  key.head[0] = word0;
  key.head[1] = word1;
  key.head[2] = word2;
  key.length = static_cast<std::uint32_t>(n);
  return hash_of(word0, word1, word2, key.length, s, end);
}

inline void prefetch(const void* address) {
#if defined(__GNUC__) || defined(__clang__)
  __builtin_prefetch(address);
#else
  (void)address;
#endif
}

}  // namespace waconv::detail
