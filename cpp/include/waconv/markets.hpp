// Country of a user: the ISO prefix of a business-scoped user id ("US.1349..."), else the
// longest calling-code prefix of an international phone number (+1 area codes and +7 ranges
// matter). A value that is neither gets no country: a national-format number is never read
// as some other country's international one (docs/rules.md, "Markets and countries").
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "waconv/strings.hpp"

namespace waconv {

inline constexpr std::int16_t kUnknownCountry = -1;

// E.164 bounds on the digits after the international prefix (calling code included). The
// few shorter real numbers (Niue, Tokelau, Tristan da Cunha: 7 digits) are all market Other.
inline constexpr std::size_t kFewestPhoneDigits = 8;
inline constexpr std::size_t kMostPhoneDigits = 15;

class CountryResolver {
 public:
  // prefixes[i] (digits) belongs to country code prefix_country[i]; iso_codes[c] names country c.
  // national_lengths[k], bit n: calling_codes[k] has national numbers of n digits. Optional;
  // when given, every prefix must start with one of the calling codes.
  CountryResolver(const std::vector<std::string>& prefixes, const std::vector<std::int16_t>& prefix_country,
                  const std::vector<std::string>& iso_codes, const std::vector<std::string>& calling_codes = {},
                  const std::vector<std::uint32_t>& national_lengths = {});

  // kUnknownCountry unless `user` is a BSUID of a known country or a plausible international
  // number: '+' or '00' first, or bare digits (webhooks' wa_id) whose length after the calling
  // code is a national length of it; digits with separators but no prefix are national format.
  // 8 to 15 digits, a known calling code, and for +1 a possible NANP number (11 digits, area
  // code 2-9xx).
  std::int16_t resolve(std::string_view user) const;

 private:
  // Transparent hashing: lookups by string_view, no std::string built per probe.
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  template <class Value>
  using Table = std::unordered_map<std::string, Value, Hash, std::equal_to<>>;

  std::int16_t phone_country(std::string_view number, bool bare) const;
  bool national_length_possible(std::string_view number) const;

  Table<std::int16_t> by_prefix_;
  Table<std::int16_t> by_iso_;
  Table<std::uint32_t> national_lengths_;
  std::size_t longest_prefix_ = 0;
};

// Country of every value of a string column (distinct user ids); kUnknownCountry for nulls.
std::vector<std::int16_t> resolve_countries(const CountryResolver& resolver, const StringColumn& users,
                                            int threads = 0);

}  // namespace waconv
