#include "waconv/markets.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "parallel.hpp"

namespace waconv {

namespace {

bool is_space(char ch) { return std::isspace(static_cast<unsigned char>(ch)) != 0; }
bool is_digit(char ch) { return ch >= '0' && ch <= '9'; }
bool is_separator(char ch) { return ch == ' ' || ch == '-' || ch == '.' || ch == '(' || ch == ')'; }

// Room for "00" and the most digits E.164 allows; one digit more can never be plausible.
constexpr std::size_t kDigitRoom = kMostPhoneDigits + 2;

// The E.164 digits (calling code first) of a value written as an international number, or an
// empty view. International means '+' before every digit, or "00" first, or bare digits (the
// webhooks' wa_id). Digits with separators and neither prefix are national format, as people
// write their own country's numbers ("(11) 99999-0000", "612 34 56 78"): reading them as
// international would silently give another country.
std::string_view international_digits(std::string_view text, char (&digits)[kDigitRoom], bool& bare) {
  std::size_t count = 0;
  bool plus = false;
  bool separated = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    if (is_digit(ch)) {
      if (count == kDigitRoom) return {};
      digits[count++] = ch;
    } else if (ch == '+') {
      if (plus || count > 0) return {};  // a '+' after digits is no international prefix
      plus = true;
    } else if (is_separator(ch)) {
      separated = true;
    } else {
      return {};
    }
  }
  std::string_view number(digits, count);
  bare = false;
  if (!plus) {
    if (number.substr(0, 2) == "00") {
      number.remove_prefix(2);
    } else if (separated) {
      return {};
    } else {
      bare = true;
    }
  }
  if (number.size() < kFewestPhoneDigits || number.size() > kMostPhoneDigits) return {};
  return number;
}

}  // namespace

CountryResolver::CountryResolver(const std::vector<std::string>& prefixes,
                                 const std::vector<std::int16_t>& prefix_country,
                                 const std::vector<std::string>& iso_codes,
                                 const std::vector<std::string>& calling_codes,
                                 const std::vector<std::uint32_t>& national_lengths) {
  if (prefixes.size() != prefix_country.size()) throw std::invalid_argument("one country per prefix is required");
  if (calling_codes.size() != national_lengths.size()) {
    throw std::invalid_argument("one set of national lengths per calling code is required");
  }
  for (std::size_t i = 0; i < prefixes.size(); ++i) {
    by_prefix_[prefixes[i]] = prefix_country[i];
    longest_prefix_ = std::max(longest_prefix_, prefixes[i].size());
  }
  for (std::size_t c = 0; c < iso_codes.size(); ++c) by_iso_[iso_codes[c]] = static_cast<std::int16_t>(c);
  for (std::size_t k = 0; k < calling_codes.size(); ++k) {
    const std::string& code = calling_codes[k];
    if (code.empty() || code.size() > 3 || !std::all_of(code.begin(), code.end(), is_digit)) {
      throw std::invalid_argument("calling code '" + code + "' is not 1 to 3 digits");
    }
    national_lengths_[code] = national_lengths[k];
  }
  if (national_lengths_.empty()) return;
  // A prefix without its calling code would skip the length check of bare digits unnoticed.
  for (const std::string& prefix : prefixes) {
    bool covered = false;
    for (std::size_t n = 1; n <= std::min<std::size_t>(3, prefix.size()) && !covered; ++n) {
      covered = national_lengths_.count(prefix.substr(0, n)) > 0;
    }
    if (!covered) throw std::invalid_argument("prefix '" + prefix + "' starts with no calling code of the lengths");
  }
}


std::int16_t CountryResolver::resolve(std::string_view user) const {
  while (!user.empty() && is_space(user.front())) user.remove_prefix(1);
  while (!user.empty() && is_space(user.back())) user.remove_suffix(1);
  // Business-scoped user ids carry the user's ISO country: "US.13491208655302741918".
  if (user.size() > 3 && user[2] == '.' && std::isalpha(static_cast<unsigned char>(user[0])) &&
      std::isalpha(static_cast<unsigned char>(user[1]))) {
    const char iso[2] = {static_cast<char>(std::toupper(static_cast<unsigned char>(user[0]))),
                         static_cast<char>(std::toupper(static_cast<unsigned char>(user[1])))};
    const auto it = by_iso_.find(std::string_view(iso, 2));
    return it == by_iso_.end() ? kUnknownCountry : it->second;
  }
  char digits[kDigitRoom];
  bool bare = false;
  const std::string_view number = international_digits(user, digits, bare);
  return phone_country(number, bare);
}

std::int16_t CountryResolver::phone_country(std::string_view number, bool bare) const {
  if (number.empty()) return kUnknownCountry;
  // +1 is the North American Numbering Plan: 1 NPA NXX XXXX, and no area code starts with
  // 0 or 1. Anything else there is a national number of some other country ("(11) ...").
  if (number[0] == '1' && (number.size() != 11 || number[1] < '2')) return kUnknownCountry;
  // Bare digits may as well be a national number ("9876543210", an Indian mobile, is no
  // +98 Iranian one): they must fit the calling code's numbering plan. After '+' or '00' the
  // calling code is certain, and a length slip must not lose the country.
  if (bare && !national_length_possible(number)) return kUnknownCountry;
  for (std::size_t n = std::min(longest_prefix_, number.size()); n > 0; --n) {
    const auto it = by_prefix_.find(number.substr(0, n));
    if (it != by_prefix_.end()) return it->second;
  }
  return kUnknownCountry;
}

bool CountryResolver::national_length_possible(std::string_view number) const {
  if (national_lengths_.empty()) return true;
  for (std::size_t n = 1; n <= std::min<std::size_t>(3, number.size()); ++n) {
    const auto it = national_lengths_.find(number.substr(0, n));
    if (it != national_lengths_.end()) return ((it->second >> (number.size() - n)) & 1U) != 0;
  }
  return true;  // no calling code: the prefix lookup finds no country either
}

namespace {

template <class Rows>
void resolve_range(const CountryResolver& resolver, const StringColumn& users, const Rows& rows,
                   std::size_t first, std::size_t last, std::int16_t* out) {
  for (std::size_t i = first; i < last; ++i) {
    out[i] = users.is_valid(i) ? resolver.resolve(rows.value(i)) : kUnknownCountry;
  }
}

}  // namespace

std::vector<std::int16_t> resolve_countries(const CountryResolver& resolver, const StringColumn& users, int threads) {
  std::vector<std::int16_t> out(users.size);
  detail::parallel_chunks(users.size, detail::thread_count(threads, users.size),
                          [&](std::size_t first, std::size_t last) {
    users.with_rows([&](const auto& rows) {
      resolve_range(resolver, users, rows, first, last, out.data());
    });
  });
  return out;
}

}  // namespace waconv
