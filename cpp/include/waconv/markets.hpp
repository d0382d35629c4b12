// Country of a user: the ISO prefix of a business-scoped user id ("US.1349..."), else the
// longest calling-code prefix of the phone number (+1 area codes and +7 ranges matter).
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

class CountryResolver {
 public:
  // prefixes[i] (digits) belongs to country code prefix_country[i]; iso_codes[c] names country c.
  CountryResolver(const std::vector<std::string>& prefixes, const std::vector<std::int16_t>& prefix_country,
                  const std::vector<std::string>& iso_codes);

  std::int16_t resolve(std::string_view user) const;

 private:
  // Transparent hashing: lookups by string_view, no std::string built per probe.
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Table = std::unordered_map<std::string, std::int16_t, Hash, std::equal_to<>>;
  Table by_prefix_;
  Table by_iso_;
  std::size_t longest_prefix_ = 0;
};

// Country of every value of a string column (distinct user ids); kUnknownCountry for nulls.
std::vector<std::int16_t> resolve_countries(const CountryResolver& resolver, const StringColumn& users,
                                            int threads = 0);

}  // namespace waconv
