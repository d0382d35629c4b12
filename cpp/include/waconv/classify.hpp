// Phase 1 (SPEC §4): per (business, user) pair, in effective-time order, rebuild customer
// service windows, free entry point windows, CBP conversations and each message's pricing
// category and type. Needs only the events of one pair, so pairs are scanned in parallel.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "waconv/buffers.hpp"
#include "waconv/codes.hpp"
#include "waconv/events.hpp"
#include "waconv/rules.hpp"

namespace waconv {

struct ClassifyOptions {
  std::optional<Era> forced_era;               // rules="cbp_v2" etc.; nullopt = by date
  bool anchor_sent = false;                    // CBP conversations start at send time
  bool failed_freeform_opens_conversation = false;
  int threads = 0;                             // 0 = hardware concurrency
};

// One entry per input row; codes are kNullCode / -1 where SPEC §5 says null.
struct MessageVerdicts {
  RowBuffer<std::int8_t> era;
  RowBuffer<std::int8_t> pricing_model;
  RowBuffer<std::int8_t> pricing_category;
  RowBuffer<std::int8_t> pricing_type;
  RowBuffer<std::int64_t> conversation_id;
  RowBuffer<std::uint8_t> opens_conversation;
  RowBuffer<std::uint8_t> csw_open;
  RowBuffer<std::uint8_t> policy_violation;
  RowBuffer<std::uint8_t> us_marketing_paused;
  RowBuffer<std::int8_t> charge_reason;  // ChargeReason; the allowances update it

  void resize(std::size_t n);
};

// CBP conversations and FEP windows; the conversation id is the position.
struct ConversationTable {
  RowBuffer<std::int32_t> business, user, waba;
  RowBuffer<std::int8_t> era, category, pricing_type;
  RowBuffer<Instant> start, end;
  RowBuffer<std::int64_t> n_messages, opened_by;

  std::size_t size() const { return start.size(); }
  void resize(std::size_t n);
};

struct WindowTable {
  RowBuffer<std::int8_t> kind;
  RowBuffer<std::int32_t> business, user;
  RowBuffer<Instant> start, end;

  std::size_t size() const { return start.size(); }
  void resize(std::size_t n);
};

struct Classification {
  MessageVerdicts messages;
  ConversationTable conversations;
  WindowTable windows;
  double scan_seconds = 0;  // time in sort + pair scan, for benchmarks
  std::vector<std::pair<const char*, double>> stage_seconds;  // the scan's steps, for benchmarks
};

// clocks[i] is the clock of WABA code i.
Classification classify(const EventColumns& events, const std::vector<AccountClock>& clocks,
                        const ClassifyOptions& options);

// Era of each row (delivered outbound by delivery time, others by timestamp).
Era row_era(const EventColumns& events, std::size_t row, const std::vector<AccountClock>& clocks,
            const ClassifyOptions& options);

}  // namespace waconv
