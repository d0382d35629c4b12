// Identity (SPEC §2): one person may appear under a phone number and a business-scoped user
// id (BSUID). Every id a row carries names the same person, links are transitive over the
// whole input, and each linked group becomes one user code before phase 1. Works on codes
// only: the caller factorizes the id columns and maps their distinct values to "nodes".
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "waconv/buffers.hpp"

namespace waconv {

// One id column of the input (user, user_phone, user_bsuid), as codes into its own distinct
// values, and where each distinct value sits among the nodes shared by every column (the same
// value in two columns is the same node).
// Without node_of_code the nodes are a shift of the codes (no lookup per row): code k is node
// k + offset for k >= first_code, no id below (an empty string sorts first).
struct IdColumn {
  const std::int32_t* codes = nullptr;         // per row: code of its value, -1 = null
  const std::int32_t* node_of_code = nullptr;  // per code: its node, -1 = no id (an empty string); or nullptr
  std::size_t code_count = 0;
  std::int32_t first_code = 0;  // without node_of_code: codes below this are no id
  std::int64_t offset = 0;      // without node_of_code: node = code + offset
};

struct Identity {
  // Per row: its group (user), numbered in ascending order of the groups' key nodes, so the
  // numbering depends only on the values, never on row order. Unspecified when a row has no id.
  RowBuffer<std::int32_t> group;
  std::vector<std::int32_t> key_node;  // per group: the node that names it
  std::int64_t first_missing = -1;     // first row with no id in any column, -1 if none
};

// Union-find over the nodes: every pair of ids on one row is linked. A group's key is its
// smallest preferred node (preferred[node] != 0: a phone number) if it has one, else its
// smallest node; nodes are ordered by value by the caller, so "smallest" is the smallest value.
// preferred: one flag per node (node_count of them), or nullptr for none. A node that no code
// maps to belongs to no group. threads: 0 = one per core (fewer for small inputs).
// Throws std::invalid_argument for a code or node out of range.
Identity resolve_identity(const std::vector<IdColumn>& columns, std::size_t rows, std::size_t node_count,
                          const std::uint8_t* preferred, int threads = 0);

}  // namespace waconv
