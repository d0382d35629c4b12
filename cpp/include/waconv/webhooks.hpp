// WhatsApp Cloud API webhook dumps (JSON lines, or one JSON array / object; gzipped or not)
// read straight into the per-status and per-message columns of waconv.read_webhooks.
//
// This is a fast path beside the exact Python reader, not a second definition of what a
// webhook means: a payload is read here only when every field the reader uses has the shape
// the exact reader accepts without complaint, and then to the same values. Anything else (a
// malformed line, a field of another JSON type, a bare `value` object, nesting deeper than
// webhooks have) is handed back untouched, line by line, for the exact reader to read or to
// reject with its own file / line / field message. A file this reader cannot take apart at
// all (a corrupt gzip stream, a JSON document that does not parse) comes back as not read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace waconv {

// A column of optional strings laid out as an Arrow utf8 array: offsets (size + 1 entries),
// the bytes, and one validity byte per value (1 = present; a null's slot is empty).
struct TextColumn {
  std::vector<std::int32_t> offsets{0};
  std::string data;
  std::vector<std::uint8_t> valid;

  std::size_t size() const { return valid.size(); }
  void reserve(double factor);  // room for `factor` times what it holds
  void push(std::string_view value);
  void push_null();
  std::string_view at(std::size_t row) const {
    return {data.data() + offsets[row], static_cast<std::size_t>(offsets[row + 1] - offsets[row])};
  }
};

// Numbers that may be missing: the value (0 where missing) and its validity byte.
template <class T>
struct OptionalColumn {
  std::vector<T> values;
  std::vector<std::uint8_t> valid;

  void reserve(double factor) {
    values.reserve(static_cast<std::size_t>(static_cast<double>(values.size()) * factor));
    valid.reserve(values.capacity());
  }
  void push(T value) {
    values.push_back(value);
    valid.push_back(1);
  }
  void push_null() {
    values.push_back(T{});
    valid.push_back(0);
  }
};

// One row per statuses[] item. `value` numbers the `value` object the row came from, so
// that contacts[] beside it can complete its ids (see WebhookBatch::values).
struct WebhookStatuses {
  std::vector<std::int64_t> value;
  std::vector<std::int64_t> line;  // of the payload in its file (a JSON array's element: its 1-based position)
  TextColumn message_id;
  std::vector<std::int8_t> status;  // sent, delivered, read, played, failed = 0..4
  std::vector<std::int64_t> time;   // epoch seconds
  TextColumn business, waba, phone, bsuid;
  TextColumn conversation_id, conversation_origin;
  OptionalColumn<std::int64_t> conversation_expiration;
  OptionalColumn<std::uint8_t> billable;
  TextColumn pricing_model, pricing_category, pricing_type;
  OptionalColumn<double> cost;
  TextColumn cost_currency;
  OptionalColumn<std::int64_t> error_code;  // errors[0].code of a failed status

  std::size_t size() const { return status.size(); }
};

// One row per messages[] item (inbound).
struct WebhookMessages {
  std::vector<std::int64_t> value;
  std::vector<std::int64_t> line;
  TextColumn message_id;
  std::vector<std::int64_t> time;
  std::vector<std::uint8_t> referral;
  TextColumn business, waba, phone, bsuid, message_type;

  std::size_t size() const { return time.size(); }
};

// contacts[] entries with an id: BSUID (user_id), phone (wa_id), profile.country_code as
// written; an empty string is stored as null.
struct WebhookContacts {
  std::vector<std::int64_t> value;
  TextColumn bsuid, phone, country;
};

// What one thread read from its share of the lines, in line order.
struct WebhookBatch {
  WebhookStatuses statuses;
  WebhookMessages messages;
  WebhookContacts contacts;
  TextColumn pair_bsuid, pair_phone;           // contacts carrying both ids
  TextColumn display_business, display_phone;  // metadata with a display_phone_number
  std::int64_t values = 0;  // value objects numbered so far (rows' `value` is below this)
  std::int64_t payloads = 0;

  // Room in every column for `factor` times the rows read so far: a share of a file sized
  // from its first lines grows without copying its columns again and again.
  void reserve(double factor);
};

// Lines (or, for one-document files, nothing: the whole file is refused) left to the
// exact reader: their 1-based line numbers and their bytes, as read (with the newline).
struct WebhookFallback {
  std::vector<std::int64_t> lines;
  TextColumn text;
};

struct WebhookRead {
  bool read = false;  // false: the file as a whole is for the exact reader (`reason` says why)
  std::string reason;
  std::vector<WebhookBatch> batches;  // one per thread, in file order
  WebhookFallback fallback;
  std::int64_t lines = 0;  // lines in the (decompressed) file
  std::int64_t bytes = 0;  // bytes read, after decompression
};

// JSON lines in memory (the bytes as a file holds them; a byte order mark before the first
// line is skipped). threads: 0 = one per core, fewer for small inputs.
WebhookRead read_webhook_lines(std::string_view text, int threads = 0);
// One JSON document in memory: a payload, or an array of payloads. Read only if every
// payload is; otherwise not read at all (the exact reader names the element).
WebhookRead read_webhook_document(std::string_view text);
// A file: JSON lines or one document, gzip-decompressed on the way (zlib) when `gzipped`.
WebhookRead read_webhook_file(const std::string& path, bool json_lines, bool gzipped, int threads = 0);

}  // namespace waconv
