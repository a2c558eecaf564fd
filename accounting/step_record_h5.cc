// The /steps table's rows (table_codecs.h).
#include <cstddef>
#include <cstring>

#include "accounting/table_codecs.h"

namespace corral::acct_internal {
namespace {

struct StepRow {
  int64_t job_id, step_id;
  int64_t start_ms, end_ms, cpu_used_ms, max_rss_bytes;
  int32_t exit_code, restarts;
  char node[kStepNodeBytes];
  char name[kStepNameBytes];
  char state[kStepStateBytes];
};
static_assert(sizeof(StepRow) == 6 * 8 + 2 * 4 + kStepNodeBytes + kStepNameBytes + kStepStateBytes,
              "StepRow must have no padding");

}  // namespace

size_t StepTable::RowBytes() {
  return sizeof(StepRow);
}

void StepTable::Encode(const StepRecord& r, std::byte* out) {
  StepRow w{};
  w.job_id = r.job_id;
  w.step_id = r.step_id;
  w.start_ms = r.start_ms;
  w.end_ms = r.end_ms;
  w.cpu_used_ms = r.cpu_used_ms;
  w.max_rss_bytes = r.max_rss_bytes;
  w.exit_code = r.exit_code;
  w.restarts = r.restarts;
  PutString(r.node, w.node);
  PutString(r.name, w.name);
  PutString(r.state, w.state);
  std::memcpy(out, &w, sizeof w);
}

StepRecord StepTable::Decode(const std::byte* in) {
  StepRow w;
  std::memcpy(&w, in, sizeof w);
  StepRecord r;
  r.job_id = w.job_id;
  r.step_id = w.step_id;
  r.start_ms = w.start_ms;
  r.end_ms = w.end_ms;
  r.cpu_used_ms = w.cpu_used_ms;
  r.max_rss_bytes = w.max_rss_bytes;
  r.exit_code = w.exit_code;
  r.restarts = w.restarts;
  r.node = GetString(w.node);
  r.name = GetString(w.name);
  r.state = GetString(w.state);
  return r;
}

#define COL_INT(field, h5type) H5Tinsert(t.get(), #field, offsetof(StepRow, field), h5type) >= 0
#define COL_STR(field) \
  InsertString(t.get(), #field, offsetof(StepRow, field), sizeof(StepRow::field))

Hid StepTable::Type() {
  Hid t(H5Tcreate(H5T_COMPOUND, sizeof(StepRow)));
  bool ok = t.valid() && COL_INT(job_id, H5T_NATIVE_INT64) && COL_INT(step_id, H5T_NATIVE_INT64) &&
            COL_STR(node) && COL_STR(name) && COL_STR(state) &&
            COL_INT(exit_code, H5T_NATIVE_INT32) && COL_INT(restarts, H5T_NATIVE_INT32) &&
            COL_INT(start_ms, H5T_NATIVE_INT64) && COL_INT(end_ms, H5T_NATIVE_INT64) &&
            COL_INT(cpu_used_ms, H5T_NATIVE_INT64) && COL_INT(max_rss_bytes, H5T_NATIVE_INT64);
  return ok ? std::move(t) : Hid();
}

}  // namespace corral::acct_internal
