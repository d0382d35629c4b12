#include "webhook_payload.hpp"

#include <charconv>
#include <cstdint>
#include <string_view>

namespace waconv::detail {

namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

// The bounds read_webhooks and classify put on epoch seconds: 2000-01-01 .. 2100-01-01.
constexpr std::int64_t kEarliestSeconds = 946'684'800;
constexpr std::int64_t kLatestSeconds = 4'102'444'800;

// A key's value as dict.get() sees it: absent, or the value of the key's last occurrence.
struct Field {
  bool present = false;
  element value;

  void set(element e) {
    present = true;
    value = e;
  }
  bool null() const { return !present || value.is_null(); }
};

// The walker's text(): a string, an integer as its digits, or null; any other type is for
// the exact reader to reject by name.
bool read_text(const Field& field, Text& out) {
  out = Text{};
  if (field.null()) return true;
  switch (field.value.type()) {
    case element_type::STRING: {
      std::string_view value;
      if (field.value.get_string().get(value)) return false;
      out.set(value);
      return true;
    }
    case element_type::INT64:
      out.set_integer(field.value.get_int64().value_unsafe());
      return true;
    case element_type::UINT64:
      out.set_integer(field.value.get_uint64().value_unsafe());
      return true;
    default:
      return false;
  }
}

bool in_range(std::int64_t seconds) { return kEarliestSeconds <= seconds && seconds < kLatestSeconds; }

// Digits only, at most 18 of them (so no overflow): what both readers turn into the same int.
bool parse_digits(std::string_view text, std::int64_t& out) {
  if (text.empty() || text.size() > 18) return false;
  std::int64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  out = value;
  return true;
}

// The walker's _time() for the shapes Meta sends: a string of digits or a JSON integer,
// within the bounds. Floats, signs, spaces and out-of-range times go to the exact reader.
bool read_seconds(const Field& field, std::int64_t& out) {
  if (field.null()) return false;
  std::int64_t seconds = 0;
  if (field.value.type() == element_type::STRING) {
    if (!parse_digits(field.value.get_string().value_unsafe(), seconds)) return false;
  } else if (field.value.type() == element_type::INT64) {
    seconds = field.value.get_int64().value_unsafe();
  } else {
    return false;
  }
  if (!in_range(seconds)) return false;
  out = seconds;
  return true;
}

bool read_object(const Field& field, object& out) { return !field.value.get_object().get(out); }

bool read_array(const Field& field, array& out) { return !field.value.get_array().get(out); }

// Status names in the order of events.STATUS_NAMES.
int status_code(std::string_view name) {
  if (name == "sent") return 0;
  if (name == "delivered") return 1;
  if (name == "read") return 2;
  if (name == "played") return 3;
  if (name == "failed") return 4;
  return -1;
}

// errors[0].code of a failed status, as the walker's _error_code reads it; false: refused.
bool read_error_code(const Field& errors, bool& has_code, std::int64_t& code) {
  has_code = false;
  if (errors.null()) return true;
  array list;
  if (!read_array(errors, list)) return false;
  if (list.size() == 0) return true;
  object first;
  if (list.at(0).get_object().get(first)) return false;
  Field value;
  for (const auto field : first) {
    if (field.key == "code") value.set(field.value);
  }
  if (value.null()) return true;
  switch (value.value.type()) {
    case element_type::INT64:
      code = value.value.get_int64().value_unsafe();
      break;
    case element_type::UINT64:
      return false;  // beyond int64: the walker rejects it
    case element_type::STRING: {
      std::string_view text = value.value.get_string().value_unsafe();
      const bool negative = !text.empty() && text.front() == '-';
      if (negative) text.remove_prefix(1);
      if (!parse_digits(text, code)) return false;  // int() also reads " 42", "+42", "4_2": the walker's
      if (negative) code = -code;
      break;
    }
    default:
      return false;  // floats, booleans, objects: the walker's to accept or name
  }
  has_code = true;
  return true;
}

// pricing.cost: {amount, currency}; the amount a number in [0, 1e15).
bool read_cost(const Field& cost, StatusRow& row) {
  row.has_cost = false;
  row.currency = Text{};
  if (cost.null()) return true;
  object fields;
  if (!read_object(cost, fields)) return false;
  Field amount, currency;
  for (const auto field : fields) {
    if (field.key == "amount") {
      amount.set(field.value);
    } else if (field.key == "currency") {
      currency.set(field.value);
    }
  }
  if (!amount.null()) {
    double number = 0;
    switch (amount.value.type()) {
      case element_type::INT64:
        number = static_cast<double>(amount.value.get_int64().value_unsafe());
        break;
      case element_type::UINT64:
        number = static_cast<double>(amount.value.get_uint64().value_unsafe());
        break;
      case element_type::DOUBLE:
        number = amount.value.get_double().value_unsafe();
        break;
      default:
        return false;
    }
    if (!(number >= 0 && number < 1e15)) return false;
    row.has_cost = true;
    row.cost = number;
  }
  return read_text(currency, row.currency);
}

bool read_conversation(const Field& conversation, StatusRow& row) {
  row.conversation_id = row.origin = Text{};
  row.has_expiration = false;
  if (conversation.null()) return true;
  object fields;
  if (!read_object(conversation, fields)) return false;
  Field id, origin, expiration;
  for (const auto field : fields) {
    if (field.key == "id") {
      id.set(field.value);
    } else if (field.key == "origin") {
      origin.set(field.value);
    } else if (field.key == "expiration_timestamp") {
      expiration.set(field.value);
    }
  }
  if (!origin.null()) {
    object origin_fields;
    if (!read_object(origin, origin_fields)) return false;
    Field type;
    for (const auto field : origin_fields) {
      if (field.key == "type") type.set(field.value);
    }
    if (!read_text(type, row.origin)) return false;
  }
  if (!expiration.null()) {
    if (!read_seconds(expiration, row.expiration)) return false;
    row.has_expiration = true;
  }
  return read_text(id, row.conversation_id);
}

bool read_pricing(const Field& pricing, StatusRow& row) {
  row.model = row.category = row.pricing_type = Text{};
  row.has_billable = false;
  if (pricing.null()) return read_cost(Field{}, row);
  object fields;
  if (!read_object(pricing, fields)) return false;
  Field billable, model, category, type, cost;
  for (const auto field : fields) {
    const std::string_view key = field.key;
    if (key == "billable") {
      billable.set(field.value);
    } else if (key == "pricing_model") {
      model.set(field.value);
    } else if (key == "category") {
      category.set(field.value);
    } else if (key == "type") {
      type.set(field.value);
    } else if (key == "cost") {
      cost.set(field.value);
    }
  }
  if (!billable.null()) {
    if (billable.value.type() != element_type::BOOL) return false;
    row.has_billable = true;
    row.billable = billable.value.get_bool().value_unsafe();
  }
  return read_text(model, row.model) && read_text(category, row.category) && read_text(type, row.pricing_type) &&
         read_cost(cost, row);
}

// A two-letter ISO country code (any case) as written; "" or null: none.
bool read_country(const Field& field, Text& out) {
  out = Text{};
  if (field.null()) return true;
  if (field.value.type() != element_type::STRING) return false;
  const std::string_view code = field.value.get_string().value_unsafe();
  if (code.empty()) return true;
  const auto letter = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); };
  if (code.size() != 2 || !letter(code[0]) || !letter(code[1])) return false;
  out.set(code);
  return true;
}

void push(TextColumn& column, const Text& text) {
  if (text.null()) {
    column.push_null();
  } else {
    column.push(text.get());
  }
}

// An id as the identity columns want it: an empty string is no id.
void push_id(TextColumn& column, const Text& text) {
  if (text.empty()) {
    column.push_null();
  } else {
    column.push(text.get());
  }
}

// A status or message row's common start: where it came from and its id, which must be
// a non-empty string (anything else goes to the exact reader).
template <class Row>
bool start_row(Row& row, const Field& id, const Text& business, const Text& waba) {
  row.value = 0;
  row.business = business;
  row.waba = waba;
  if (id.null() || id.value.type() != element_type::STRING) return false;
  row.message_id.set(id.value.get_string().value_unsafe());
  return !row.message_id.get().empty();
}

}  // namespace

void Text::set_integer(std::int64_t value) {
  kind_ = Kind::digits;
  length_ = static_cast<std::uint8_t>(std::to_chars(digits_.data(), digits_.data() + digits_.size(), value).ptr -
                                      digits_.data());
}

void Text::set_integer(std::uint64_t value) {
  kind_ = Kind::digits;
  length_ = static_cast<std::uint8_t>(std::to_chars(digits_.data(), digits_.data() + digits_.size(), value).ptr -
                                      digits_.data());
}

bool PayloadReader::read(element payload, WebhookBatch& batch, std::int64_t line) {
  statuses_.clear();
  messages_.clear();
  contacts_.clear();
  displays_.clear();
  values_ = 0;
  object root;
  if (payload.get_object().get(root)) return false;
  Field entry;
  for (const auto field : root) {
    if (field.key == "entry") entry.set(field.value);
  }
  array entries;
  if (!entry.present || !read_array(entry, entries)) return false;  // bare values: the exact reader's
  for (const element item : entries) {
    object fields;
    if (item.get_object().get(fields)) return false;
    Field changes, id;
    for (const auto field : fields) {
      if (field.key == "changes") {
        changes.set(field.value);
      } else if (field.key == "id") {
        id.set(field.value);
      }
    }
    array list;
    if (!changes.present || !read_array(changes, list)) return false;
    Text waba;
    if (!read_text(id, waba)) return false;
    for (const element change : list) {
      object change_fields;
      if (change.get_object().get(change_fields)) return false;
      Field kind, value;
      for (const auto field : change_fields) {
        if (field.key == "field") {
          kind.set(field.value);
        } else if (field.key == "value") {
          value.set(field.value);
        }
      }
      Text name;
      if (!read_text(kind, name)) return false;
      if (!name.null() && name.get() != "messages") continue;  // account_update, calls, ...: no messages
      object value_fields;
      if (!value.present || !read_object(value, value_fields)) return false;
      if (!this->value(value_fields, waba)) return false;
    }
  }
  commit(batch, line);
  return true;
}

bool PayloadReader::value(object value, const Text& waba) {
  Field metadata, statuses, messages, contacts;
  bool errors = false;
  for (const auto field : value) {
    const std::string_view key = field.key;
    if (key == "metadata") {
      metadata.set(field.value);
    } else if (key == "statuses") {
      statuses.set(field.value);
    } else if (key == "messages") {
      messages.set(field.value);
    } else if (key == "contacts") {
      contacts.set(field.value);
    } else if (key == "errors") {
      errors = true;
    }
  }
  object metadata_fields;
  if (metadata.null() || !read_object(metadata, metadata_fields)) return false;  // no business phone number id
  Field phone_number_id, display_phone_number;
  for (const auto field : metadata_fields) {
    if (field.key == "phone_number_id") {
      phone_number_id.set(field.value);
    } else if (field.key == "display_phone_number") {
      display_phone_number.set(field.value);
    }
  }
  Text business, display;
  if (!read_text(phone_number_id, business) || !read_text(display_phone_number, display) || business.null()) {
    return false;
  }
  if (!display.empty()) displays_.push_back({business, display});
  if (statuses.null() && messages.null()) return errors;  // a value-level error notification: no rows
  const std::int64_t number = values_++;
  if (!contacts.null()) {
    array list;
    if (!read_array(contacts, list)) return false;
    for (const element item : list) {
      object fields;
      if (item.get_object().get(fields) || !contact(fields)) return false;
      contacts_.back().value = number;
    }
  }
  if (!statuses.null()) {
    array list;
    if (!read_array(statuses, list)) return false;
    for (const element item : list) {
      object fields;
      if (item.get_object().get(fields) || !status(fields, business, waba)) return false;
      statuses_.back().value = number;
    }
  }
  if (!messages.null()) {
    array list;
    if (!read_array(messages, list)) return false;
    for (const element item : list) {
      object fields;
      if (item.get_object().get(fields) || !message(fields, business, waba)) return false;
      messages_.back().value = number;
    }
  }
  return true;
}

bool PayloadReader::status(object item, const Text& business, const Text& waba) {
  Field id, status, timestamp, recipient_id, recipient_user_id, relayed, conversation, pricing, errors;
  for (const auto field : item) {
    const std::string_view key = field.key;
    if (key == "id") {
      id.set(field.value);
    } else if (key == "status") {
      status.set(field.value);
    } else if (key == "timestamp") {
      timestamp.set(field.value);
    } else if (key == "recipient_id") {
      recipient_id.set(field.value);
    } else if (key == "recipient_user_id") {
      recipient_user_id.set(field.value);
    } else if (key == "message") {
      relayed.set(field.value);
    } else if (key == "conversation") {
      conversation.set(field.value);
    } else if (key == "pricing") {
      pricing.set(field.value);
    } else if (key == "errors") {
      errors.set(field.value);
    }
  }
  StatusRow row;
  if (!start_row(row, id, business, waba)) return false;
  if (status.null() || status.value.type() != element_type::STRING) return false;
  const int code = status_code(status.value.get_string().value_unsafe());
  if (code < 0) return false;
  row.status = static_cast<std::int8_t>(code);
  if (!read_seconds(timestamp, row.time)) return false;
  if (!read_text(recipient_id, row.phone)) return false;
  if (row.phone.null() && !relayed.null()) {  // Turn.io relays the recipient here
    object fields;
    if (!read_object(relayed, fields)) return false;
    Field relayed_id;
    for (const auto field : fields) {
      if (field.key == "recipient_id") relayed_id.set(field.value);
    }
    if (!read_text(relayed_id, row.phone)) return false;
  }
  if (!read_text(recipient_user_id, row.bsuid)) return false;
  if (row.phone.empty() && row.bsuid.empty()) return false;
  if (!read_conversation(conversation, row) || !read_pricing(pricing, row)) return false;
  row.has_error = false;
  if (code == 4 && !read_error_code(errors, row.has_error, row.error_code)) return false;
  statuses_.push_back(row);
  return true;
}

bool PayloadReader::message(object item, const Text& business, const Text& waba) {
  Field id, timestamp, from, from_user_id, type, referral;
  for (const auto field : item) {
    const std::string_view key = field.key;
    if (key == "id") {
      id.set(field.value);
    } else if (key == "timestamp") {
      timestamp.set(field.value);
    } else if (key == "from") {
      from.set(field.value);
    } else if (key == "from_user_id") {
      from_user_id.set(field.value);
    } else if (key == "type") {
      type.set(field.value);
    } else if (key == "referral") {
      referral.set(field.value);
    }
  }
  MessageRow row;
  if (!start_row(row, id, business, waba)) return false;
  if (!read_seconds(timestamp, row.time)) return false;
  if (!read_text(from, row.phone) || !read_text(from_user_id, row.bsuid)) return false;
  if (row.phone.empty() && row.bsuid.empty()) return false;
  if (!read_text(type, row.type)) return false;
  if (!referral.null() && referral.value.type() != element_type::OBJECT) return false;
  row.referral = !referral.null();
  messages_.push_back(row);
  return true;
}

bool PayloadReader::contact(object item) {
  Field user_id, wa_id, profile;
  for (const auto field : item) {
    const std::string_view key = field.key;
    if (key == "user_id") {
      user_id.set(field.value);
    } else if (key == "wa_id") {
      wa_id.set(field.value);
    } else if (key == "profile") {
      profile.set(field.value);
    }
  }
  ContactRow row;
  row.value = 0;
  if (!read_text(user_id, row.bsuid) || !read_text(wa_id, row.phone)) return false;
  if (!profile.null()) {
    object fields;
    if (!read_object(profile, fields)) return false;
    Field country;
    for (const auto field : fields) {
      if (field.key == "country_code") country.set(field.value);
    }
    if (!read_country(country, row.country)) return false;
  }
  contacts_.push_back(row);
  return true;
}

void PayloadReader::commit(WebhookBatch& batch, std::int64_t line) const {
  const std::int64_t first = batch.values;
  for (const StatusRow& row : statuses_) {
    WebhookStatuses& out = batch.statuses;
    out.value.push_back(first + row.value);
    out.line.push_back(line);
    push(out.message_id, row.message_id);
    out.status.push_back(row.status);
    out.time.push_back(row.time);
    push(out.business, row.business);
    push(out.waba, row.waba);
    push(out.phone, row.phone);
    push(out.bsuid, row.bsuid);
    push(out.conversation_id, row.conversation_id);
    push(out.conversation_origin, row.origin);
    row.has_expiration ? out.conversation_expiration.push(row.expiration) : out.conversation_expiration.push_null();
    row.has_billable ? out.billable.push(row.billable ? 1 : 0) : out.billable.push_null();
    push(out.pricing_model, row.model);
    push(out.pricing_category, row.category);
    push(out.pricing_type, row.pricing_type);
    row.has_cost ? out.cost.push(row.cost) : out.cost.push_null();
    push(out.cost_currency, row.currency);
    row.has_error ? out.error_code.push(row.error_code) : out.error_code.push_null();
  }
  for (const MessageRow& row : messages_) {
    WebhookMessages& out = batch.messages;
    out.value.push_back(first + row.value);
    out.line.push_back(line);
    push(out.message_id, row.message_id);
    out.time.push_back(row.time);
    out.referral.push_back(row.referral ? 1 : 0);
    push(out.business, row.business);
    push(out.waba, row.waba);
    push(out.phone, row.phone);
    push(out.bsuid, row.bsuid);
    push(out.message_type, row.type);
  }
  for (const ContactRow& row : contacts_) {
    if (!row.bsuid.empty() && !row.phone.empty()) {
      batch.pair_bsuid.push(row.bsuid.get());
      batch.pair_phone.push(row.phone.get());
    }
    if (row.bsuid.empty() && row.phone.empty()) continue;
    batch.contacts.value.push_back(first + row.value);
    push_id(batch.contacts.bsuid, row.bsuid);
    push_id(batch.contacts.phone, row.phone);
    push_id(batch.contacts.country, row.country);
  }
  for (const auto& [business, display] : displays_) {
    batch.display_business.push(business.get());
    batch.display_phone.push(display.get());
  }
  batch.values += values_;
  batch.payloads += 1;
}

}  // namespace waconv::detail
