#include <catch2/catch.hpp>

#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "waconv/webhooks.hpp"

using namespace waconv;

namespace {

std::string status_line(const std::string& id, const std::string& status, const std::string& extra = "") {
  return R"({"object":"whatsapp_business_account","entry":[{"id":"2000000001","changes":[{"field":"messages","value":)"
         R"({"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550001000","phone_number_id":"1000000001"},)"
         R"("statuses":[{"id":")" +
         id + R"(","status":")" + status + R"(","timestamp":"1760000000","recipient_id":"15550000001")" + extra +
         "}]}}]}]}";
}

std::vector<std::string> texts(const TextColumn& column) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < column.size(); ++i) out.push_back(column.valid[i] ? std::string(column.at(i)) : "<null>");
  return out;
}

std::vector<std::string> status_ids(const WebhookRead& read) {
  std::vector<std::string> out;
  for (const WebhookBatch& batch : read.batches) {
    for (const std::string& id : texts(batch.statuses.message_id)) out.push_back(id);
  }
  return out;
}

}  // namespace

TEST_CASE("a status line becomes one row with Meta's pricing and conversation") {
  const std::string line = status_line(
      "wamid.1", "delivered",
      R"(,"conversation":{"id":"c1","origin":{"type":"utility"}},"pricing":{"billable":false,"pricing_model":"PMP",)"
      R"("category":"utility","type":"free_customer_service","cost":{"amount":0,"currency":"USD"}})");
  const WebhookRead read = read_webhook_lines(line + "\n", 1);
  REQUIRE(read.read);
  REQUIRE(read.fallback.lines.empty());
  REQUIRE(read.batches.size() == 1);
  const WebhookStatuses& s = read.batches[0].statuses;
  REQUIRE(s.size() == 1);
  CHECK(texts(s.message_id) == std::vector<std::string>{"wamid.1"});
  CHECK(s.status[0] == 1);
  CHECK(s.time[0] == 1760000000);
  CHECK(texts(s.business) == std::vector<std::string>{"1000000001"});
  CHECK(texts(s.waba) == std::vector<std::string>{"2000000001"});
  CHECK(texts(s.conversation_origin) == std::vector<std::string>{"utility"});
  CHECK(s.billable.valid[0] == 1);
  CHECK(s.billable.values[0] == 0);
  CHECK(s.cost.valid[0] == 1);
  CHECK(texts(s.cost_currency) == std::vector<std::string>{"USD"});
  CHECK(s.conversation_expiration.valid[0] == 0);
  CHECK(texts(read.batches[0].display_phone) == std::vector<std::string>{"15550001000"});
}

TEST_CASE("integer ids read as their digits, and a repeated key keeps its last value") {
  std::string line = status_line("wamid.2", "sent", R"(,"recipient_id":15550000009,"status":"failed")");
  const WebhookRead read = read_webhook_lines(line, 1);
  REQUIRE(read.fallback.lines.empty());
  const WebhookStatuses& s = read.batches[0].statuses;
  CHECK(texts(s.phone) == std::vector<std::string>{"15550000009"});
  CHECK(s.status[0] == 4);
  CHECK(s.error_code.valid[0] == 0);
}

TEST_CASE("lines it cannot read exactly are left to the exact reader, by line number") {
  const std::string lines = "\xEF\xBB\xBF" + status_line("wamid.1", "sent") + "\n" +  // a byte order mark first
                            "   \n" +                                                  // blank: skipped
                            status_line("wamid.2", "deleted") + "\n" +                 // unknown status
                            "{not json\n" +                                            //
                            status_line("wamid.3", "sent", R"(,"timestamp":"1760000000.5")") + "\n" +  // a float time
                            status_line("wamid.4", "read") + "\r\n";
  const WebhookRead read = read_webhook_lines(lines, 1);
  CHECK(read.lines == 6);
  CHECK(read.fallback.lines == std::vector<std::int64_t>{3, 4, 5});
  CHECK(texts(read.fallback.text)[1] == "{not json\n");  // with its newline, as Python reads it
  CHECK(status_ids(read) == std::vector<std::string>{"wamid.1", "wamid.4"});
}

TEST_CASE("shares of the lines on several threads read like one thread, in line order") {
  std::string lines;
  for (int i = 0; i < 500; ++i) {
    lines += (i % 97 == 5 ? std::string("[]") : status_line("wamid." + std::to_string(i), "sent")) + "\n";
  }
  const WebhookRead one = read_webhook_lines(lines, 1);
  for (int threads : {2, 3, 7}) {
    const WebhookRead many = read_webhook_lines(lines, threads);
    CHECK(many.batches.size() == static_cast<std::size_t>(threads));
    CHECK(status_ids(many) == status_ids(one));
    CHECK(many.fallback.lines == one.fallback.lines);
    CHECK(many.lines == 500);
  }
  CHECK(one.fallback.lines == std::vector<std::int64_t>{6, 103, 200, 297, 394, 491});
}

TEST_CASE("a JSON array is read only if every element is") {
  const std::string good = "[" + status_line("wamid.1", "sent") + "," + status_line("wamid.2", "read") + "]";
  const WebhookRead read = read_webhook_document(good);
  REQUIRE(read.read);
  CHECK(status_ids(read) == std::vector<std::string>{"wamid.1", "wamid.2"});
  CHECK_FALSE(read_webhook_document("[" + status_line("wamid.1", "sent") + ", 5]").read);
  CHECK_FALSE(read_webhook_document("{\"statuses\": []}").read);  // a bare value: the exact reader's
  CHECK_FALSE(read_webhook_document("{} {}").read);
}

TEST_CASE("gzip files are inflated in the same pass; corrupt ones are left whole") {
  std::string lines;
  for (int i = 0; i < 2000; ++i) lines += status_line("wamid." + std::to_string(i), "sent") + "\n";
  // One name per process: two suites (Release, sanitizers) may run at once.
  const auto path =
      std::filesystem::temp_directory_path() / ("waconv_test_webhooks_" + std::to_string(::getpid()) + ".jsonl.gz");
  gzFile file = gzopen(path.c_str(), "wb");
  REQUIRE(file != nullptr);
  REQUIRE(gzwrite(file, lines.data(), static_cast<unsigned>(lines.size())) == static_cast<int>(lines.size()));
  REQUIRE(gzclose(file) == Z_OK);
  const WebhookRead packed = read_webhook_file(path.string(), true, true, 2);
  REQUIRE(packed.read);
  CHECK(status_ids(packed) == status_ids(read_webhook_lines(lines, 1)));
  CHECK(packed.bytes == static_cast<std::int64_t>(lines.size()));
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 10);  // truncated
  CHECK_FALSE(read_webhook_file(path.string(), true, true, 2).read);
  std::filesystem::remove(path);
  CHECK_FALSE(read_webhook_file(path.string(), true, false, 1).read);  // no such file
}
