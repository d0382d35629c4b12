// Internal to phase 1: the state machine that walks the rows of one (business, user)
// pair in effective-time order. One scanner per thread; its scratch vectors are reused
// from pair to pair so the scan allocates nothing per pair in steady state.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "waconv/classify.hpp"

namespace waconv::detail {

// Sort key of a row inside its user group: business, then effective time with inbound
// first at equal times (key = 2 * time + is_outbound; times are < 2^61 so it fits), then
// input order.
struct ScanRecord {
  Instant key;
  std::uint32_t row;
  std::int32_t business;

  Instant effective_time() const { return key >> 1; }
  friend bool operator<(const ScanRecord& a, const ScanRecord& b) {
    if (a.business != b.business) return a.business < b.business;
    if (a.key != b.key) return a.key < b.key;
    return a.row < b.row;
  }
};

class PairScanner {
 public:
  PairScanner(const EventColumns& events, const std::vector<AccountClock>& clocks, const ClassifyOptions& options,
              MessageVerdicts& messages, ConversationTable& conversations, WindowTable& windows);

  // `pair` holds every non-duplicate row of one pair, sorted.
  void scan(std::span<const ScanRecord> pair);

 private:
  struct OpenConversation {
    std::int64_t id = -1;
    Instant start = kNoInstant;
    Instant end = kNoInstant;
    bool open_at(Instant t) const { return id >= 0 && t < end; }
  };

  bool csw_open_at(Instant t) const;
  bool inbound_within(Instant after, Instant before) const;
  Era era_of(std::uint32_t row, Instant effective) const;

  void on_inbound(std::uint32_t row, Instant effective);
  void on_outbound(std::uint32_t row, Instant effective, Era era);
  void on_undelivered(std::uint32_t row, Instant sent, Era era, bool free_form, bool csw_at_send);
  bool marketing_paused(std::uint32_t row, Instant effective, TemplateCategory category) const;
  bool try_open_free_entry_point(std::uint32_t row, Instant sent, Instant effective, Era era);
  void classify_cbp_v1(std::uint32_t row, Instant sent, Instant effective, bool csw_at_send);
  void classify_cbp_v2(std::uint32_t row, Instant sent, Instant effective, TemplateCategory category);
  void classify_pmp(std::uint32_t row, Instant effective, Era era, TemplateCategory category);

  void open_conversation(std::uint32_t row, Era era, PricingCategory category, PricingType type, Instant start,
                         Instant end);
  void join(std::uint32_t row, std::int64_t conversation_id);
  const OpenConversation* latest_open_conversation(Instant t) const;
  void emit_windows();

  const EventColumns& events_;
  const std::vector<AccountClock>& clocks_;
  const ClassifyOptions& options_;
  MessageVerdicts& out_;
  ConversationTable& conversations_;
  WindowTable& windows_;

  // Per-pair state.
  std::int32_t business_ = 0;
  std::int32_t user_ = 0;
  std::vector<Instant> csw_inbound_;    // timestamps of CSW-refreshing inbound rows, sorted
  std::vector<Instant> referrals_;      // eligible referral inbound timestamps, sorted
  Instant consumed_referral_ = kNoInstant;
  OpenConversation free_entry_point_;
  std::vector<std::pair<Instant, Instant>> fep_windows_;
  std::array<OpenConversation, kPricingCategoryCount> open_;  // CBP conversations by category
};

}  // namespace waconv::detail
