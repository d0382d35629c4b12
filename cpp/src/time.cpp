#include "waconv/time.hpp"

#include <date/tz.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

namespace waconv {
namespace {

constexpr int kFirstYear = 1990;
constexpr int kLastYear = 2110;
constexpr std::int32_t kFirstMonth = kFirstYear * 12;

// A missing zoneinfo directory is a broken installation, not a bad zone name: without this
// check every zone, even "UTC", would be reported to the user as unknown.
const date::tzdb& database() {
  try {
    const date::tzdb& db = date::get_tzdb();
    if (!db.zones.empty()) return db;
  } catch (const std::exception&) {
  }
  throw std::runtime_error("no time zone database found in /usr/share/zoneinfo: install the tzdata package");
}

const date::time_zone* locate(const std::string& name) {
  database();
  try {
    return date::locate_zone(name);
  } catch (const std::runtime_error&) {
    throw std::invalid_argument("unknown time zone '" + name + "'");
  }
}

Instant local_midnight(const date::time_zone* zone, date::year_month_day ymd) {
  // choose::earliest also resolves a nonexistent midnight (DST jump at 00:00, as in
  // America/Sao_Paulo before 2019) to the instant the local day actually starts.
  const auto sys = zone->to_sys(date::local_days{ymd}, date::choose::earliest);
  return std::chrono::duration_cast<std::chrono::nanoseconds>(sys.time_since_epoch()).count();
}

}  // namespace

ZoneCalendar::ZoneCalendar(const std::string& tz_name) : name_(tz_name) {
  const date::time_zone* zone = locate(tz_name);
  month_starts_.reserve((kLastYear - kFirstYear + 1) * 12);
  for (int y = kFirstYear; y <= kLastYear; ++y) {
    for (unsigned m = 1; m <= 12; ++m) {
      month_starts_.push_back(local_midnight(zone, date::year{y} / date::month{m} / date::day{1}));
    }
  }
}

Instant ZoneCalendar::start_of_day(LocalDate d) const {
  return local_midnight(locate(name_), date::year{d.year} / date::month{d.month} / date::day{d.day});
}

std::int32_t ZoneCalendar::month_of(Instant t) const {
  if (t < month_starts_.front()) throw std::out_of_range("instant before 1990");
  // Pricing and the free tier ask this for millions of rows. Months last 28-31 days, so
  // t's distance from the first month start divided by the mean month length lands at most
  // one month off, and a step corrects it: a binary search over the 1,452 months would cost
  // about eleven mispredicted branches instead.
  constexpr Instant kMeanMonth = 2'629'746 * kSecond;  // 365.2425 days / 12
  const std::size_t last = month_starts_.size() - 1;
  std::size_t i = std::min(static_cast<std::size_t>((t - month_starts_.front()) / kMeanMonth), last);
  while (i > 0 && month_starts_[i] > t) --i;
  while (i < last && month_starts_[i + 1] <= t) ++i;
  return kFirstMonth + static_cast<std::int32_t>(i);
}

Instant ZoneCalendar::month_start(std::int32_t month_index) const {
  return month_starts_.at(static_cast<std::size_t>(month_index - kFirstMonth));
}

}  // namespace waconv
