#include "waconv/markets.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "parallel.hpp"

namespace waconv {

CountryResolver::CountryResolver(const std::vector<std::string>& prefixes,
                                 const std::vector<std::int16_t>& prefix_country,
                                 const std::vector<std::string>& iso_codes) {
  if (prefixes.size() != prefix_country.size()) throw std::invalid_argument("one country per prefix is required");
  for (std::size_t i = 0; i < prefixes.size(); ++i) {
    by_prefix_[prefixes[i]] = prefix_country[i];
    longest_prefix_ = std::max(longest_prefix_, prefixes[i].size());
  }
  for (std::size_t c = 0; c < iso_codes.size(); ++c) by_iso_[iso_codes[c]] = static_cast<std::int16_t>(c);
}

std::int16_t CountryResolver::resolve(std::string_view user) const {
  while (!user.empty() && std::isspace(static_cast<unsigned char>(user.front()))) user.remove_prefix(1);
  // Business-scoped user ids carry the user's ISO country: "US.13491208655302741918".
  if (user.size() > 3 && user[2] == '.' && std::isalpha(static_cast<unsigned char>(user[0])) &&
      std::isalpha(static_cast<unsigned char>(user[1]))) {
    const char iso[2] = {static_cast<char>(std::toupper(static_cast<unsigned char>(user[0]))),
                         static_cast<char>(std::toupper(static_cast<unsigned char>(user[1])))};
    const auto it = by_iso_.find(std::string_view(iso, 2));
    return it == by_iso_.end() ? kUnknownCountry : it->second;
  }
  // Only the leading digits can matter (the 00 prefix and the longest calling code).
  char digits[32];
  std::size_t count = 0;
  for (char ch : user) {
    if (std::isdigit(static_cast<unsigned char>(ch))) {
      if (count < sizeof digits) digits[count++] = ch;
    } else if (ch != '+' && ch != ' ' && ch != '-' && ch != '(' && ch != ')' && ch != '.') {
      return kUnknownCountry;
    }
  }
  std::string_view number(digits, count);
  if (number.substr(0, 2) == "00") number.remove_prefix(2);  // international dialling prefix
  for (std::size_t n = std::min(longest_prefix_, number.size()); n > 0; --n) {
    const auto it = by_prefix_.find(number.substr(0, n));
    if (it != by_prefix_.end()) return it->second;
  }
  return kUnknownCountry;
}

namespace {

template <class Offset>
void resolve_range(const CountryResolver& resolver, const StringColumn& users, const Offset* offsets,
                   std::size_t first, std::size_t last, std::int16_t* out) {
  for (std::size_t i = first; i < last; ++i) {
    out[i] = users.is_valid(i) ? resolver.resolve(users.value(offsets, i)) : kUnknownCountry;
  }
}

}  // namespace

std::vector<std::int16_t> resolve_countries(const CountryResolver& resolver, const StringColumn& users, int threads) {
  std::vector<std::int16_t> out(users.size);
  detail::parallel_chunks(users.size, detail::thread_count(threads, users.size),
                          [&](std::size_t first, std::size_t last) {
    users.with_offsets([&](const auto* offsets) {
      resolve_range(resolver, users, offsets, first, last, out.data());
    });
  });
  return out;
}

}  // namespace waconv
