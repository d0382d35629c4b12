#include "waconv/events.hpp"

#include <algorithm>
#include <limits>
#include <vector>

#include "parallel.hpp"

namespace waconv {

InputError::InputError(std::string column, std::int64_t row, std::string reason)
    : std::invalid_argument("column '" + column + "'" + (row >= 0 ? ", row " + std::to_string(row) : "") +
                            ": " + reason),
      column_(std::move(column)),
      row_(row),
      reason_(std::move(reason)) {}

namespace {

bool block_is_valid(const EventColumns& e, std::size_t first, std::size_t last) {
  bool valid = true;
  for (std::size_t i = first; i < last; ++i) valid &= row_is_valid(e, i);
  return valid;
}

[[noreturn]] void throw_first_error(const EventColumns& e, std::size_t first, std::size_t last) {
  for (std::size_t i = first; i < last; ++i) {
    const auto row = static_cast<std::int64_t>(i);
    if (e.business[i] < 0) throw InputError("business", row, "negative business code");
    if (e.user[i] < 0 || e.user[i] >= e.user_count) throw InputError("user", row, "user code out of range");
    if (e.waba[i] < 0 || e.waba[i] >= e.waba_count) throw InputError("waba", row, "waba code out of range");
    if (e.direction[i] != 0 && e.direction[i] != 1) throw InputError("direction", row, "unknown direction code");
    if (e.template_category[i] < 0 || e.template_category[i] > 4) {
      throw InputError("template_category", row, "unknown template category code");
    }
    const Instant t = e.timestamp[i];
    if (t < kEarliestInstant || t >= kLatestInstant) {
      throw InputError("timestamp", row, "timestamp outside 2000-01-01 .. 2100-01-01");
    }
    const Instant d = e.delivered_at[i];
    if (d != kNoInstant && !e.is_inbound(i)) {
      if (d < t) throw InputError("delivered_at", row, "delivered before it was sent");
      if (d >= kLatestInstant) throw InputError("delivered_at", row, "delivered_at after 2100-01-01");
    }
  }
  throw std::logic_error("validate: a block failed but no row did");
}

}  // namespace

void validate_columns(const EventColumns& e) {
  if (e.size >= std::numeric_limits<std::uint32_t>::max()) {
    throw InputError("timestamp", -1, "more than 4 billion rows in one call; split the input by pair");
  }
  const struct {
    const void* data;
    const char* column;
  } required[] = {{e.business, "business"},   {e.user, "user"},           {e.waba, "waba"},
                  {e.timestamp, "timestamp"}, {e.delivered_at, "delivered_at"}, {e.direction, "direction"},
                  {e.template_category, "template_category"}};
  for (const auto& r : required) {
    if (e.size > 0 && r.data == nullptr) throw InputError(r.column, -1, "column is required");
  }
  if (e.message_id != nullptr && e.message_id->size != e.size) {
    throw InputError("message_id", -1, "one value per row is required");
  }
}

void validate(const EventColumns& e) {
  validate_columns(e);
  // Blocks are screened with branch-free checks the compiler vectorises; only a block that
  // fails is walked row by row to name the first offending row.
  // Chunks run in parallel; each stops at its first failing block, and the lowest failing
  // block overall names the row.
  constexpr std::size_t kBlock = 4096;
  const std::size_t blocks = (e.size + kBlock - 1) / kBlock;
  const std::size_t workers = detail::thread_count(0, e.size);
  std::vector<std::int64_t> first_bad(workers, -1);
  detail::parallel_chunks(blocks, workers, [&](std::size_t first, std::size_t last, std::size_t chunk) {
    for (std::size_t b = first; b < last; ++b) {
      if (!block_is_valid(e, b * kBlock, std::min(e.size, (b + 1) * kBlock))) {
        first_bad[chunk] = static_cast<std::int64_t>(b);
        return;
      }
    }
  });
  if (const std::int64_t bad = detail::first_found(first_bad); bad >= 0) {
    const auto block = static_cast<std::size_t>(bad);
    throw_first_error(e, block * kBlock, std::min(e.size, (block + 1) * kBlock));
  }
}

}  // namespace waconv
