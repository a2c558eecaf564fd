// The /usage table's rows (table_codecs.h).
#include <cstddef>
#include <cstring>

#include "accounting/table_codecs.h"

namespace corral::acct_internal {
namespace {

struct UsageRow {
  int64_t job_id, sampled_ms, cpu_ms, rss_bytes, gpu_mem_bytes, gpu_power_mw, energy_mj;
  int32_t restarts, gpu_util_pct;
  char node[kUsageNodeBytes];
};
static_assert(sizeof(UsageRow) == 7 * 8 + 2 * 4 + kUsageNodeBytes, "UsageRow must have no padding");

}  // namespace

size_t UsageTable::RowBytes() {
  return sizeof(UsageRow);
}

void UsageTable::Encode(const UsageSample& r, std::byte* out) {
  UsageRow w{};
  w.job_id = r.job_id;
  w.sampled_ms = r.sampled_ms;
  w.cpu_ms = r.cpu_ms;
  w.rss_bytes = r.rss_bytes;
  w.gpu_mem_bytes = r.gpu_mem_bytes;
  w.gpu_power_mw = r.gpu_power_mw;
  w.energy_mj = r.energy_mj;
  w.restarts = r.restarts;
  w.gpu_util_pct = r.gpu_util_pct;
  PutString(r.node, w.node);
  std::memcpy(out, &w, sizeof w);
}

UsageSample UsageTable::Decode(const std::byte* in) {
  UsageRow w;
  std::memcpy(&w, in, sizeof w);
  UsageSample r;
  r.job_id = w.job_id;
  r.sampled_ms = w.sampled_ms;
  r.cpu_ms = w.cpu_ms;
  r.rss_bytes = w.rss_bytes;
  r.gpu_mem_bytes = w.gpu_mem_bytes;
  r.gpu_power_mw = w.gpu_power_mw;
  r.energy_mj = w.energy_mj;
  r.restarts = w.restarts;
  r.gpu_util_pct = w.gpu_util_pct;
  r.node = GetString(w.node);
  return r;
}

#define COL_INT(field, h5type) H5Tinsert(t.get(), #field, offsetof(UsageRow, field), h5type) >= 0

Hid UsageTable::Type() {
  Hid t(H5Tcreate(H5T_COMPOUND, sizeof(UsageRow)));
  bool ok = t.valid() && COL_INT(job_id, H5T_NATIVE_INT64) &&
            InsertString(t.get(), "node", offsetof(UsageRow, node), sizeof(UsageRow::node)) &&
            COL_INT(restarts, H5T_NATIVE_INT32) && COL_INT(sampled_ms, H5T_NATIVE_INT64) &&
            COL_INT(cpu_ms, H5T_NATIVE_INT64) && COL_INT(rss_bytes, H5T_NATIVE_INT64) &&
            COL_INT(gpu_util_pct, H5T_NATIVE_INT32) && COL_INT(gpu_mem_bytes, H5T_NATIVE_INT64) &&
            COL_INT(gpu_power_mw, H5T_NATIVE_INT64) && COL_INT(energy_mj, H5T_NATIVE_INT64);
  return ok ? std::move(t) : Hid();
}

}  // namespace corral::acct_internal
