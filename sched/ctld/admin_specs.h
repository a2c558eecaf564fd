// The wire forms of admin objects (partitions, advance reservations) and the scheduler's, both
// ways, with the checks every way in shares: `corral admin`, the config file and the store.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "fabric/proto/corral.pb.h"
#include "sched/core/advance_reservation.h"
#include "sched/core/partition.h"

namespace corral::ctld {

// Invalid naming the field ("max-time: ...") when the spec is not a valid partition.
Result<sched::Partition> PartitionFromSpec(const v1::PartitionSpec& p);
v1::PartitionSpec PartitionToSpec(const sched::Partition& p);
// The fields `modify` may set, by the names `corral admin partition` uses.
const std::vector<std::string>& PartitionFields();
// Copies field `name` of `from` into `to`; false for an unknown name.
bool CopyPartitionField(const std::string& name, const v1::PartitionSpec& from,
                        v1::PartitionSpec* to);

Result<sched::AdvanceReservation> ReservationFromSpec(const v1::ReservationSpec& r, TimeMs now);
v1::ReservationSpec ReservationToSpec(const sched::AdvanceReservation& r);
const std::vector<std::string>& ReservationFields();
bool CopyReservationField(const std::string& name, const v1::ReservationSpec& from,
                          v1::ReservationSpec* to);

}  // namespace corral::ctld
