// Identity resolution as a concurrent union-find on node indices. Linking always puts the
// larger root under the smaller one, so every parent is smaller than its child: the forest
// stays acyclic whatever order threads link in, each tree's root is its smallest node, and
// one ascending pass over the nodes flattens it (a node's parent is already resolved). The
// groups themselves (connected components) do not depend on the order of the links, so the
// result is the same for any thread count.
#include "waconv/identity.hpp"

#include <algorithm>
#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include "parallel.hpp"

namespace waconv {
namespace {

class Forest {
 public:
  explicit Forest(std::size_t n) : parent_(new std::atomic<std::int32_t>[n]) {
    for (std::size_t i = 0; i < n; ++i) parent_[i].store(static_cast<std::int32_t>(i), std::memory_order_relaxed);
  }

  // Root of x, halving the path on the way (each node then points to its grandparent). A
  // parent only ever moves to an ancestor, so a stale read is an older, still valid ancestor.
  std::int32_t find(std::int32_t x) {
    for (;;) {
      std::int32_t p = parent_[x].load(std::memory_order_relaxed);
      if (p == x) return x;
      const std::int32_t g = parent_[p].load(std::memory_order_relaxed);
      if (g == p) return p;
      parent_[x].compare_exchange_weak(p, g, std::memory_order_relaxed);  // a lost race is harmless
      x = g;
    }
  }

  void unite(std::int32_t a, std::int32_t b) {
    for (;;) {
      a = find(a);
      b = find(b);
      if (a == b) return;
      if (a < b) std::swap(a, b);
      std::int32_t expected = a;  // link only if `a` is still a root, else retry from the new roots
      if (parent_[a].compare_exchange_strong(expected, b, std::memory_order_relaxed)) return;
    }
  }

  // After every link: only for use once the threads have joined.
  std::int32_t parent(std::size_t x) const { return parent_[x].load(std::memory_order_relaxed); }

 private:
  std::unique_ptr<std::atomic<std::int32_t>[]> parent_;
};

// The node of a code (>= 0) of the column, -1 if its value is no id.
inline std::int32_t node_of(const IdColumn& column, std::int32_t code) {
  if (column.node_of_code != nullptr) return column.node_of_code[code];
  return code < column.first_code ? -1 : static_cast<std::int32_t>(code + column.offset);
}

void check_columns(const std::vector<IdColumn>& columns, std::size_t node_count) {
  if (node_count > static_cast<std::size_t>(INT32_MAX)) throw std::invalid_argument("too many ids for int32 codes");
  const auto nodes = static_cast<std::int64_t>(node_count);
  for (std::size_t c = 0; c < columns.size(); ++c) {
    const IdColumn& column = columns[c];
    const std::string name = "id column " + std::to_string(c);
    if (column.code_count > static_cast<std::size_t>(INT32_MAX)) throw std::invalid_argument(name + ": too many codes");
    if (column.codes == nullptr) throw std::invalid_argument(name + ": codes are required");
    if (column.node_of_code == nullptr) {
      const std::int64_t count = static_cast<std::int64_t>(column.code_count);
      const std::int64_t first = std::max<std::int64_t>(column.first_code, 0);
      if (first < count && (first + column.offset < 0 || count - 1 + column.offset >= nodes)) {
        throw std::invalid_argument(name + ": codes shifted by offset fall outside the nodes");
      }
      continue;
    }
    for (std::size_t k = 0; k < column.code_count; ++k) {
      const std::int32_t node = column.node_of_code[k];
      if (node < -1 || node >= nodes) {
        throw std::invalid_argument(name + ": node " + std::to_string(node) + " of code " + std::to_string(k) +
                                    " is out of range");
      }
    }
  }
}

}  // namespace

Identity resolve_identity(const std::vector<IdColumn>& columns, std::size_t rows, std::size_t node_count,
                          const std::uint8_t* preferred, int threads) {
  check_columns(columns, node_count);
  Identity out;
  out.group.resize(rows);
  Forest forest(node_count);
  const std::size_t workers = detail::thread_count(threads, rows);
  std::vector<std::int64_t> missing(workers, -1);
  std::vector<std::int64_t> bad_code(workers, -1);

  // Pass 1 over the rows: link every id of a row to its first, and keep that first node.
  std::int32_t* const group = out.group.data();
  detail::parallel_chunks(rows, workers, [&](std::size_t first, std::size_t last, std::size_t chunk) {
    for (std::size_t row = first; row < last; ++row) {
      std::int32_t head = -1;
      for (const IdColumn& column : columns) {
        const std::int32_t code = column.codes[row];
        if (code < 0) {
          if (code == -1) continue;
          bad_code[chunk] = static_cast<std::int64_t>(row);
          return;
        }
        if (static_cast<std::size_t>(code) >= column.code_count) {
          bad_code[chunk] = static_cast<std::int64_t>(row);
          return;
        }
        const std::int32_t node = node_of(column, code);
        if (node < 0) continue;
        if (head < 0) {
          head = node;
        } else if (node != head) {
          forest.unite(head, node);
        }
      }
      if (head < 0 && missing[chunk] < 0) missing[chunk] = static_cast<std::int64_t>(row);
      group[row] = head;
    }
  });
  if (const std::int64_t row = detail::first_found(bad_code); row >= 0) {
    throw std::invalid_argument("id code out of range at row " + std::to_string(row));
  }
  out.first_missing = detail::first_found(missing);
  if (out.first_missing >= 0) return out;

  // The nodes some code maps to; only they form groups.
  std::vector<std::uint8_t> used(node_count, 0);
  for (const IdColumn& column : columns) {
    for (std::size_t k = 0; k < column.code_count; ++k) {
      const std::int32_t node = node_of(column, static_cast<std::int32_t>(k));
      if (node >= 0) used[static_cast<std::size_t>(node)] = 1;
    }
  }
  // Roots in one ascending pass (parent < child), then each root's key: ascending, so the
  // first preferred node, else the first node, of its tree.
  std::vector<std::int32_t> root(node_count);
  std::vector<std::int32_t> key(node_count, -1);
  for (std::size_t i = 0; i < node_count; ++i) {
    const std::int32_t p = forest.parent(i);
    root[i] = p == static_cast<std::int32_t>(i) ? p : root[static_cast<std::size_t>(p)];
    if (!used[i]) continue;
    std::int32_t& k = key[static_cast<std::size_t>(root[i])];
    if (k < 0 || (preferred != nullptr && preferred[i] && !preferred[static_cast<std::size_t>(k)])) {
      k = static_cast<std::int32_t>(i);
    }
  }
  // Groups numbered by ascending key node; label[node] = its group.
  std::vector<std::int32_t> label(node_count, -1);
  for (std::size_t i = 0; i < node_count; ++i) {
    if (used[i] && key[static_cast<std::size_t>(root[i])] == static_cast<std::int32_t>(i)) {
      label[i] = static_cast<std::int32_t>(out.key_node.size());
      out.key_node.push_back(static_cast<std::int32_t>(i));
    }
  }
  for (std::size_t i = 0; i < node_count; ++i) {
    if (used[i]) label[i] = label[static_cast<std::size_t>(key[static_cast<std::size_t>(root[i])])];
  }

  // Pass 2 over the rows: each row's first node to its group.
  detail::parallel_chunks(rows, workers, [&](std::size_t first, std::size_t last) {
    for (std::size_t row = first; row < last; ++row) group[row] = label[static_cast<std::size_t>(group[row])];
  });
  return out;
}

}  // namespace waconv
