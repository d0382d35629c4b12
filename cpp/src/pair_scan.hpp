// Internal to phase 1: the state machine that walks the rows of one (business, user)
// pair in effective-time order. Rows arrive as compact records holding every input field
// the rules need, and verdicts leave as compact records in the same order: the scan
// touches no per-row input or output column, so it runs from cache instead of missing
// it on every field of every row.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "waconv/classify.hpp"

namespace waconv::detail {

// One row, as the scan sees it (32 bytes).
struct ScanRecord {
  enum Flag : std::uint8_t {
    kCategoryMask = 0x07,  // TemplateCategory
    kDelivered = 0x08,
    kReferral = 0x10,
    kRefreshesCsw = 0x20,
    kUsNumber = 0x40,
  };
  // Sort key inside a user's group: business, then effective time with inbound first at
  // equal times (key = 2 * time + is_outbound; times are < 2^61), then input order; rows
  // whose keys tie are then put in message-id order (classify.cpp, SPEC §4).
  Instant key;
  Instant sent;  // timestamp column: inbound received, outbound sent
  std::uint32_t row;
  std::int32_t business;
  std::int32_t waba;
  std::uint8_t flags;
  std::uint8_t user_in_block;  // grouping only: the user's place among the 256 of its block

  Instant effective_time() const { return key >> 1; }
  bool inbound() const { return (key & 1) == 0; }
  bool has(Flag f) const { return (flags & f) != 0; }
  TemplateCategory category() const { return static_cast<TemplateCategory>(flags & kCategoryMask); }

  friend bool operator<(const ScanRecord& a, const ScanRecord& b) {
    if (a.business != b.business) return a.business < b.business;
    if (a.key != b.key) return a.key < b.key;
    return a.row < b.row;
  }
};

static_assert(sizeof(ScanRecord) == 32, "two records per cache line");

// What the scan decides for one row (8 bytes), kept in row order until it is scattered to
// the output columns: the scatter to row order is one random write per row, so the smaller
// the verdict, the fewer lines and fresh pages that write touches. The era (four values)
// shares the flags byte, which leaves a byte for the charge reason.
struct Verdict {
  enum Flag : std::uint8_t {
    kOpens = 0x01,
    kCswOpen = 0x02,
    kPolicyViolation = 0x04,
    kUsMarketingPaused = 0x08,
    kPmpModel = 0x10,  // the pricing model; the era decides it except at the 2025-07-01 transition
  };
  static constexpr unsigned kEraShift = 5;
  static constexpr std::uint8_t kEraMask = 0x60;
  static_assert(kEraCount <= 4, "the era takes two bits of the flags");
  static constexpr std::uint32_t kNoConversation = 0xffffffffu;
  // Numbered within the shard that scanned the row; a shard has fewer conversations than
  // rows, and rows are fewer than 2^32 - 1 (validate_columns), so the sentinel is never an id.
  std::uint32_t conversation = kNoConversation;
  std::int8_t pricing_category = kNullCode;
  std::int8_t pricing_type = kNullCode;
  std::uint8_t flags = 0;
  std::int8_t charge_reason = kNullCode;

  Era era() const { return static_cast<Era>((flags & kEraMask) >> kEraShift); }
  void set_era(Era era) {
    flags = static_cast<std::uint8_t>((flags & ~kEraMask) | (static_cast<unsigned>(era) << kEraShift));
  }
  void set_reason(ChargeReason reason) { charge_reason = static_cast<std::int8_t>(reason); }
};

static_assert(sizeof(Verdict) == 8, "eight verdicts per cache line");

// A conversation and a window as the scan builds them: one record per row of the final
// tables, each written with one store instead of one per column, and a conversation's
// fields the scan reads back (category, type, end) share its cache line. They become
// columns when the shards are joined.
struct ConversationRecord {
  Instant start;
  Instant end;
  std::int32_t business;
  std::int32_t user;
  std::int32_t waba;
  std::uint32_t opened_by;   // row; rows are < 2^32 - 1
  std::uint32_t n_messages;  // at most the rows
  std::int8_t era;
  std::int8_t category;
  std::int8_t pricing_type;
};

struct WindowRecord {
  Instant start;
  Instant end;
  std::int32_t business;
  std::int32_t user;
  std::int8_t kind;
};

// What one thread's scan produces besides the verdicts.
struct ShardTables {
  RowBuffer<ConversationRecord> conversations;  // conversation id = position
  RowBuffer<WindowRecord> windows;
};

class PairScanner {
 public:
  PairScanner(const std::vector<AccountClock>& clocks, const ClassifyOptions& options, ShardTables& tables);

  // `pair` holds every non-duplicate row of one pair, sorted; `verdicts` is parallel to it.
  void scan(std::int32_t user, std::span<const ScanRecord> pair, std::span<Verdict> verdicts);

 private:
  struct OpenConversation {
    std::int64_t id = -1;
    Instant start = kNoInstant;
    Instant end = kNoInstant;
    bool open_at(Instant t) const { return id >= 0 && t < end; }
  };

  // A free entry point window as plan_free_entry_points finds it. Its conversation is
  // numbered when the scan first meets one of its rows: under PMP a member sent after the
  // opener may be delivered, and so scanned, before it.
  struct FreeEntryPoint {
    Instant start;
    Instant end;
    std::uint32_t opener;  // position in the pair
    Era era;               // the opener's
    std::int64_t conversation = -1;
  };
  static constexpr std::int32_t kNoWindow = -1;

  // Whether the CSW is open at t, for t at or before the current row's effective time.
  bool csw_open_at(Instant t) const;
  bool inbound_within(Instant after, Instant before) const;
  const RuleDates& dates(const ScanRecord& r) const { return clocks_[static_cast<std::size_t>(r.waba)].dates; }
  Era era_of(const ScanRecord& r) const {
    return options_.forced_era ? *options_.forced_era : era_at(r.effective_time(), dates(r));
  }

  void plan_free_entry_points(std::span<const ScanRecord> pair);
  void on_inbound(const ScanRecord& r, Verdict& v);
  void on_outbound(const ScanRecord& r, std::size_t position, Verdict& v, Era era);
  void on_undelivered(const ScanRecord& r, Verdict& v, Era era, bool free_form, bool csw_at_send);
  bool marketing_paused(const ScanRecord& r) const;
  void enter_free_entry_point(std::size_t position, Verdict& v);
  void close_conversations_at(Instant start);
  void classify_cbp_v1(const ScanRecord& r, Verdict& v, bool csw_at_send);
  void classify_cbp_v2(const ScanRecord& r, Verdict& v);
  void classify_pmp(const ScanRecord& r, Verdict& v, Era era);

  std::int64_t open_conversation(const ScanRecord& r, Verdict& v, Era era, PricingCategory category,
                                 PricingType type, Instant start, Instant end);
  void join(Verdict& v, std::int64_t conversation_id);
  const OpenConversation* latest_open_conversation(Instant t) const;
  void emit_windows();

  const std::vector<AccountClock>& clocks_;
  const ClassifyOptions& options_;
  RowBuffer<ConversationRecord>& conversations_;
  RowBuffer<WindowRecord>& windows_;

  // Per-pair state.
  std::int32_t business_ = 0;
  std::int32_t user_ = 0;
  std::vector<Instant> csw_inbound_;    // timestamps of CSW-refreshing inbound rows, sorted
  std::size_t csw_seen_ = 0;            // how many of them are at or before the current row
  // Eligible click-to-WhatsApp entries in time order. Each opens at most one free entry
  // point; a late delivery can reach back to an older one, so every entry keeps its own flag.
  struct Referral {
    Instant at;
    bool consumed;
  };
  std::vector<Referral> referrals_;
  std::size_t first_conversation_ = 0;  // this pair's conversations are ids [first, size)
  std::span<const ScanRecord> pair_;
  OpenConversation free_entry_point_;   // the last one the scan has met
  std::vector<FreeEntryPoint> fep_windows_;
  std::vector<std::int32_t> fep_of_;    // per position: its window or kNoWindow; empty without referrals
  std::vector<std::pair<Instant, std::uint32_t>> fep_events_;  // (FEP time, position)
  std::vector<std::pair<Instant, Instant>> fep_intervals_;     // the windows in start order, for the table
  std::array<OpenConversation, kPricingCategoryCount> open_;  // CBP conversations by category
};

}  // namespace waconv::detail
