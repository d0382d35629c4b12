// Internal: one parsed Cloud API payload (a simdjson DOM) into a WebhookBatch, or refused.
//
// The rules mirror python/waconv/io/webhooks/walk.py field by field (which JSON types a field
// may have, what an absent or null one means, which keys win when a key repeats: the last,
// as in a Python dict). Where the walker would reject something, or accept it through a
// conversion not repeated here (a timestamp "1760000000.5", an error code " 42"), the payload
// is refused as a whole and nothing of it is kept: the exact reader then reads it.
#pragma once

#include <simdjson.h>

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "waconv/webhooks.hpp"

namespace waconv::detail {

// A string field as the walker's text() reads it: absent/null, a string, or a JSON integer
// written as its digits.
class Text {
 public:
  bool null() const { return kind_ == Kind::null; }
  bool empty() const { return kind_ == Kind::null || get().empty(); }  // no id
  std::string_view get() const {
    return kind_ == Kind::digits ? std::string_view(digits_.data(), length_) : view_;
  }
  void set(std::string_view value) {
    kind_ = Kind::view;
    view_ = value;
  }
  void set_integer(std::int64_t value);
  void set_integer(std::uint64_t value);

 private:
  enum class Kind : std::uint8_t { null, view, digits };
  Kind kind_ = Kind::null;
  std::string_view view_;
  std::array<char, 24> digits_{};
  std::uint8_t length_ = 0;
};

struct StatusRow {
  std::int64_t value;
  Text message_id, business, waba, phone, bsuid, conversation_id, origin, model, category, pricing_type, currency;
  std::int8_t status;
  std::int64_t time;
  bool has_expiration = false, has_billable = false, has_cost = false, has_error = false;
  std::int64_t expiration = 0, error_code = 0;
  bool billable = false;
  double cost = 0;
};

struct MessageRow {
  std::int64_t value;
  Text message_id, business, waba, phone, bsuid, type;
  std::int64_t time;
  bool referral;
};

struct ContactRow {
  std::int64_t value;
  Text bsuid, phone, country;
};

class PayloadReader {
 public:
  // Appends the payload's rows to `batch` (with `line`, where the payload is in its file)
  // and returns true, or returns false and leaves `batch` as it was. The DOM's strings must
  // stay alive until the call returns.
  bool read(simdjson::dom::element payload, WebhookBatch& batch, std::int64_t line);

 private:
  bool value(simdjson::dom::object value, const Text& waba);
  bool status(simdjson::dom::object item, const Text& business, const Text& waba);
  bool message(simdjson::dom::object item, const Text& business, const Text& waba);
  bool contact(simdjson::dom::object item);
  void commit(WebhookBatch& batch, std::int64_t line) const;

  // What the payload read so far holds, kept until it is known to be readable as a whole.
  std::vector<StatusRow> statuses_;
  std::vector<MessageRow> messages_;
  std::vector<ContactRow> contacts_;
  std::vector<std::array<Text, 2>> displays_;
  std::int64_t values_ = 0;
};

}  // namespace waconv::detail
