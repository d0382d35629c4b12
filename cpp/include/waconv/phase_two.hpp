// Phase 2 as a step of its own (SPEC §9): on a cluster or a stream, phase 1 runs per
// partition of pairs with the allowances off, and the rows with a unit are gathered from
// every partition into one Classification, on which apply_allowances and price then run
// exactly as after a single classify. The gathered columns come from outside the core (a
// spill file, a Spark shuffle), so they are checked before any of them indexes anything.
#pragma once

#include "waconv/classify.hpp"
#include "waconv/events.hpp"

namespace waconv {

// Throws InputError unless every code the allowance and pricing passes follow is in range:
// WABA codes (clocks), a row's conversation id (-1 or a conversation), a conversation's
// opening row and WABA, and the verdict codes those passes compare.
void check_gathered(const EventColumns& events, const Classification& gathered);

}  // namespace waconv
