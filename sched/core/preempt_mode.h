// What a preempted job suffers (Slurm's PreemptMode): nothing (it is not preemptable), requeue
// (back to the queue, to run again from the start) or cancel. Set per partition and per QOS.
#pragma once

#include <string>

namespace corral::sched {

enum class PreemptMode { kOff, kRequeue, kCancel };

// "off", "requeue", "cancel", and back (false: unknown).
const char* PreemptModeName(PreemptMode m);
bool ParsePreemptMode(const std::string& s, PreemptMode* out);

}  // namespace corral::sched
