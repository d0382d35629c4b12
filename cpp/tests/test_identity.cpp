#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <stdexcept>
#include <vector>

#include "waconv/identity.hpp"

using namespace waconv;

namespace {

// A column whose codes are node numbers themselves (node_of_code = identity).
struct Column {
  std::vector<std::int32_t> codes;
  std::vector<std::int32_t> node_of_code;

  Column(std::vector<std::int32_t> c, std::size_t nodes) : codes(std::move(c)), node_of_code(nodes) {
    std::iota(node_of_code.begin(), node_of_code.end(), 0);
  }
  IdColumn view() const { return {codes.data(), node_of_code.data(), node_of_code.size()}; }
};

Identity resolve(const std::vector<const Column*>& columns, std::size_t nodes, const std::vector<std::uint8_t>& preferred,
                 int threads = 1) {
  std::vector<IdColumn> views;
  for (const Column* c : columns) views.push_back(c->view());
  return resolve_identity(views, columns.front()->codes.size(), nodes, preferred.empty() ? nullptr : preferred.data(),
                          threads);
}

std::vector<std::int32_t> keys_of_rows(const Identity& id) {
  std::vector<std::int32_t> out;
  for (std::int32_t g : id.group) out.push_back(id.key_node[static_cast<std::size_t>(g)]);
  return out;
}

// The naive reference: repeated relabelling until no row joins two labels.
std::vector<std::int32_t> naive_keys(const std::vector<std::vector<std::int32_t>>& columns, std::size_t nodes,
                                     const std::vector<std::uint8_t>& preferred) {
  std::vector<std::int32_t> label(nodes);
  std::iota(label.begin(), label.end(), 0);
  for (bool changed = true; changed;) {
    changed = false;
    for (std::size_t row = 0; row < columns[0].size(); ++row) {
      std::int32_t low = INT32_MAX;
      for (const auto& c : columns) {
        if (c[row] >= 0) low = std::min(low, label[static_cast<std::size_t>(c[row])]);
      }
      for (const auto& c : columns) {
        if (c[row] >= 0 && label[static_cast<std::size_t>(c[row])] != low) {
          const std::int32_t old = label[static_cast<std::size_t>(c[row])];
          for (auto& l : label) if (l == old) l = low;
          changed = true;
        }
      }
    }
  }
  std::map<std::int32_t, std::int32_t> key;  // label -> key node
  std::set<std::int32_t> present;
  for (const auto& c : columns) for (std::int32_t v : c) if (v >= 0) present.insert(v);
  for (std::int32_t node : present) {
    auto [it, inserted] = key.emplace(label[static_cast<std::size_t>(node)], node);
    if (!inserted && preferred[static_cast<std::size_t>(node)] && !preferred[static_cast<std::size_t>(it->second)]) {
      it->second = node;
    }
  }
  std::vector<std::int32_t> out;
  for (std::size_t row = 0; row < columns[0].size(); ++row) {
    for (const auto& c : columns) {
      if (c[row] >= 0) {
        out.push_back(key[label[static_cast<std::size_t>(c[row])]]);
        break;
      }
    }
  }
  return out;
}

}  // namespace

TEST_CASE("a row with a phone and a BSUID links the rows holding either") {
  // Nodes 0, 1: phones; 2, 3: BSUIDs. Row 0 phone 0 only, row 1 BSUID 2 only, row 2 both.
  const Column phone({0, -1, 0, 1}, 4), bsuid({-1, 2, 2, 3}, 4);
  const Identity id = resolve({&phone, &bsuid}, 4, {1, 1, 0, 0});
  CHECK(id.first_missing == -1);
  CHECK(id.key_node == std::vector<std::int32_t>{0, 1});
  CHECK(std::vector<std::int32_t>(id.group.begin(), id.group.end()) == std::vector<std::int32_t>{0, 0, 0, 1});
}

TEST_CASE("links are transitive and the key is the smallest preferred node") {
  // A chain: BSUID 5 - phone 3 - BSUID 4 - phone 1; BSUID 6 alone; BSUID 2 alone.
  Column phone({3, -1, 1, -1, -1}, 7), bsuid({5, 4, 4, 6, 2}, 7);
  Column third({-1, 3, -1, -1, -1}, 7);  // row 1 also carries phone 3 (the user column)
  for (Column* c : {&phone, &bsuid, &third}) c->node_of_code[0] = -1;  // no row holds node 0
  const Identity id = resolve({&phone, &bsuid, &third}, 7, {0, 1, 0, 1, 0, 0, 0});
  CHECK(id.key_node == std::vector<std::int32_t>{1, 2, 6});
  CHECK(keys_of_rows(id) == std::vector<std::int32_t>{1, 1, 1, 6, 2});
}

TEST_CASE("without a preferred node the smallest node is the key") {
  const Column bsuid({4, 2, 4}, 5), other({2, -1, -1}, 5);
  const Identity id = resolve({&bsuid, &other}, 5, {});
  CHECK(keys_of_rows(id) == std::vector<std::int32_t>{2, 2, 2});
  const Identity with_flags = resolve({&bsuid, &other}, 5, {0, 0, 0, 0, 1});
  CHECK(keys_of_rows(with_flags) == std::vector<std::int32_t>{4, 4, 4});
}

TEST_CASE("a row with no id is reported, the first one") {
  Column phone({0, -1, -1, 1}, 2), bsuid({-1, -1, -1, 1}, 2);
  CHECK(resolve({&phone, &bsuid}, 2, {1, 1}).first_missing == 1);
  // A value mapped to no node (an empty string) is no id either.
  phone.codes = {0, 1, 0, 0};
  phone.node_of_code = {0, -1};
  bsuid.codes = {-1, -1, -1, -1};
  CHECK(resolve({&phone, &bsuid}, 2, {1, 1}).first_missing == 1);
}

TEST_CASE("nodes no code maps to form no group") {
  Column phone({2, 2}, 4);
  phone.node_of_code = {-1, -1, 2, -1};
  const Identity id = resolve({&phone}, 4, {0, 0, 0, 0});
  CHECK(id.key_node == std::vector<std::int32_t>{2});
  CHECK(keys_of_rows(id) == std::vector<std::int32_t>{2, 2});
}

TEST_CASE("codes and nodes out of range are rejected") {
  Column phone({0, 3}, 2);
  CHECK_THROWS_AS(resolve({&phone}, 2, {}), std::invalid_argument);
  phone.codes = {0, -2};
  CHECK_THROWS_AS(resolve({&phone}, 2, {}), std::invalid_argument);
  phone.codes = {0, 1};
  phone.node_of_code = {0, 5};
  CHECK_THROWS_AS(resolve({&phone}, 2, {}), std::invalid_argument);
}

TEST_CASE("random links equal the naive relabelling, for any thread count") {
  std::mt19937 rng(13);
  for (int trial = 0; trial < 40; ++trial) {
    const std::size_t nodes = 1 + rng() % 60;
    const std::size_t rows = 1 + rng() % (trial < 30 ? 200 : 400'000);  // large enough for several threads
    std::vector<std::vector<std::int32_t>> raw(2, std::vector<std::int32_t>(rows));
    for (std::size_t r = 0; r < rows; ++r) {
      raw[0][r] = static_cast<std::int32_t>(rng() % nodes);
      raw[1][r] = rng() % 4 == 0 ? static_cast<std::int32_t>(rng() % nodes) : -1;
      if (rng() % 5 == 0) std::swap(raw[0][r], raw[1][r]);  // either column may be the null one
      if (raw[0][r] < 0 && raw[1][r] < 0) raw[0][r] = 0;
    }
    std::vector<std::uint8_t> preferred(nodes);
    for (auto& p : preferred) p = rng() % 3 == 0;
    const Column a(raw[0], nodes), b(raw[1], nodes);
    // The naive model on the distinct rows (at most 61 x 61), then per row through the first node.
    std::set<std::pair<std::int32_t, std::int32_t>> distinct;
    for (std::size_t r = 0; r < rows; ++r) distinct.emplace(raw[0][r], raw[1][r]);
    std::vector<std::vector<std::int32_t>> small(2);
    for (const auto& [x, y] : distinct) {
      small[0].push_back(x);
      small[1].push_back(y);
    }
    const auto small_keys = naive_keys(small, nodes, preferred);
    std::map<std::int32_t, std::int32_t> key_of_first;
    for (std::size_t r = 0; r < small[0].size(); ++r) key_of_first[small[0][r] >= 0 ? small[0][r] : small[1][r]] = small_keys[r];
    std::vector<std::int32_t> expected;
    for (std::size_t r = 0; r < rows; ++r) expected.push_back(key_of_first.at(raw[0][r] >= 0 ? raw[0][r] : raw[1][r]));
    const Identity one = resolve({&a, &b}, nodes, preferred, 1);
    CHECK(keys_of_rows(one) == expected);
    CHECK(std::is_sorted(one.key_node.begin(), one.key_node.end()));
    for (int threads : {2, 4}) {
      const Identity many = resolve({&a, &b}, nodes, preferred, threads);
      CHECK(many.key_node == one.key_node);
      CHECK(std::equal(many.group.begin(), many.group.end(), one.group.begin(), one.group.end()));
    }
  }
}

TEST_CASE("columns whose nodes are their codes shifted need no lookup table") {
  // Phones: codes 0 ("") .. 2, nodes 0, 1; BSUIDs: codes 0 .. 1, nodes 2, 3.
  const std::vector<std::int32_t> phone{1, 0, -1, 2}, bsuid{0, 1, 1, -1};
  std::vector<IdColumn> columns(2);
  columns[0] = {phone.data(), nullptr, 3, 1, -1};
  columns[1] = {bsuid.data(), nullptr, 2, 0, 2};
  const std::vector<std::uint8_t> preferred{1, 1, 0, 0};
  const Identity id = resolve_identity(columns, 4, 4, preferred.data(), 1);
  CHECK(id.first_missing == -1);
  CHECK(id.key_node == std::vector<std::int32_t>{0, 1, 3});
  CHECK(keys_of_rows(id) == std::vector<std::int32_t>{0, 3, 3, 1});
  columns[1].offset = 3;  // BSUID code 1 would be node 4 of 4
  CHECK_THROWS_AS(resolve_identity(columns, 4, 4, preferred.data(), 1), std::invalid_argument);
  columns[1].offset = 2;
  const std::vector<std::int32_t> bad{0, 2, 1, -1};  // code 2 of a column with 2 codes
  columns[1].codes = bad.data();
  CHECK_THROWS_AS(resolve_identity(columns, 4, 4, preferred.data(), 1), std::invalid_argument);
}
