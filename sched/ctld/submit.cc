// Admission of jobs: the checks a submitted spec must pass (CheckSpec; the partition, account
// and reservation ones are in admin_partitions.cc, fair_share.cc and admin_reservations.cc) and
// Submit, which stores them (sharing equal payloads) and files them for the scheduler. Methods
// of Controller (and Impl), on the writer thread.
#include <algorithm>

#include "common/log.h"
#include "common/price.h"
#include "common/time.h"
#include "fabric/convert.h"
#include "sched/ctld/controller_impl.h"

namespace corral::ctld {

std::string Controller::Impl::CheckSpec(const JobSpec& s) const {
  std::vector<NodeProfile> profiles;
  for (const auto& [name, n] : nodes) profiles.push_back(n.profile);
  Status st = sched::CheckFeasible(s, profiles);
  if (!st.ok()) return st.message();
  if (s.name.empty() || s.name.size() > 256) return "--job-name: must be 1 to 256 characters";
  for (char ch : s.name) {
    if (static_cast<unsigned char>(ch) < 0x20) {
      return "--job-name: control characters are not allowed";
    }
  }
  if (!s.partition.empty()) {
    // -p a,b: names joined by commas, none empty.
    if (s.partition.size() > 4096) return "--partition: longer than 4096 characters";
    if (s.partition.front() == ',' || s.partition.back() == ',' ||
        s.partition.find(",,") != std::string::npos) {
      return "--partition: \"" + s.partition.substr(0, 64) + "\": an empty partition name";
    }
    for (char ch : s.partition) {
      if (static_cast<unsigned char>(ch) < 0x20) {
        return "--partition: control characters are not allowed";
      }
    }
  }
  if (s.output.size() > 4096 || s.error.size() > 4096 || s.workdir.size() > 4096) {
    return "--output/--error/--chdir: paths are limited to 4096 characters";
  }
  if (s.script.empty() && !s.interactive) return "script: empty; give a script file or --wrap";
  if (s.array_indices.size() > 1000000) return "--array: more than 1000000 tasks";
  for (int32_t i : s.array_indices) {
    if (i < 0) return "--array: negative index " + std::to_string(i);
  }
  if (s.array_throttle < 0) return "--array: the %limit must not be negative";
  if (s.dependencies.size() > 1000) return "--dependency: more than 1000 jobs";
  for (const auto& d : s.dependencies) {
    if (d.type == "singleton") {
      if (d.job_id != 0) return "--dependency: singleton takes no job id";
      continue;
    }
    if (d.type != "after" && d.type != "afterok" && d.type != "afternotok" &&
        d.type != "afterany" && d.type != "aftercorr") {
      return "--dependency: unknown type \"" + d.type.substr(0, 32) + "\"";
    }
    if (!Exists(d.job_id)) {
      return "--dependency: job " + std::to_string(d.job_id) + " does not exist";
    }
  }
  if (s.script.size() > (4 << 20)) return "script: larger than 4 MiB";
  if (!s.workdir.empty() && s.workdir[0] != '/') return "--chdir: must be an absolute path";
  if (s.time_limit_ms < 0) return "--time: must not be negative";
  if (s.signal < 0 || s.signal > 64 || s.signal_secs < 0 || s.signal_secs > 65535) {
    return "--signal: SIG must be 1 to 64 and SECS 0 to 65535";
  }
  if (!qos.count(sched::QosOf(s))) {
    std::string known;
    for (const auto& [name, q] : qos) known += (known.empty() ? "" : ", ") + name;
    return "--qos: no QOS named \"" + s.qos.substr(0, 64) + "\" (defined: " + known + ")";
  }
  if (s.max_price_micro < 0 || s.max_price_micro > kMaxPriceMicro) {
    return "--max-price: must be 0 to 1000000 credits per GPU-hour";
  }
  if (s.gpu_choice != GpuChoice::kAny && !s.het.empty()) {
    return "--gpu-choice: for a job of one component (a hetjob's models are as given)";
  }
  if (s.nice < 0 || s.nice > 10000000) {
    return "--nice: must be 0 to 10000000 (it lowers the job's priority; raising it is for "
           "admins)";
  }
  return "";
}

// Whether two jobs carry the same payload: script, environment and arguments.
static bool SamePayload(const v1::JobSpec& a, const v1::JobSpec& b) {
  if (a.script() != b.script() || a.env_size() != b.env_size() || a.args_size() != b.args_size())
    return false;
  for (int i = 0; i < a.env_size(); ++i) {
    if (a.env(i).key() != b.env(i).key() || a.env(i).value() != b.env(i).value()) return false;
  }
  for (int i = 0; i < a.args_size(); ++i) {
    if (a.args(i) != b.args(i)) return false;
  }
  return true;
}

Result<std::vector<int64_t>> Controller::Submit(
    const google::protobuf::RepeatedPtrField<v1::JobSpec>& specs) {
  if (specs.empty()) return Status::Invalid("submit: no jobs in the request");
  std::vector<JobSpec> parsed;
  parsed.reserve(specs.size());
  // A job whose payload equals the one before it in the request shares that job's; its env and
  // args are not copied (a batch of 100,000 equal jobs would copy the environment 100,000 times).
  std::vector<bool> same_as_previous(specs.size(), false);
  for (int i = 0; i < specs.size(); ++i) {
    // Names FromProto would read as the default.
    const std::string job = specs.size() > 1 ? "job " + std::to_string(i) + ": " : "";
    GpuChoice choice;
    JobKind kind;
    if (!specs[i].gpu_choice().empty() && !ParseGpuChoice(specs[i].gpu_choice(), &choice)) {
      return Status::Invalid(job + "--gpu-choice: unknown \"" +
                             specs[i].gpu_choice().substr(0, 32) + "\" (any, fastest or cheapest)");
    }
    if (!specs[i].kind().empty() && !ParseJobKind(specs[i].kind(), &kind)) {
      return Status::Invalid(job + "--kind: unknown \"" + specs[i].kind().substr(0, 32) +
                             "\" (inference, training, rl or batch)");
    }
    same_as_previous[i] = i > 0 && SamePayload(specs[i], specs[i - 1]);
    parsed.push_back(FromProto(specs[i], !same_as_previous[i]));
    // Fields only the controller sets.
    parsed.back().array_job_id = 0;
    parsed.back().array_task_id = -1;
  }
  using R = Result<std::vector<int64_t>>;
  return impl_->Run<R>([this, parsed = std::move(parsed),
                        same_as_previous = std::move(same_as_previous)](Batch& b) mutable -> R {
    Impl& I = *impl_;
    for (size_t i = 0; i < parsed.size(); ++i) {
      std::string why = I.CheckSpec(parsed[i]);
      if (why.empty()) why = I.AdmitToAccount(parsed[i]);
      if (why.empty()) why = I.AdmitToPartition(parsed[i]);
      if (why.empty()) why = I.AdmitToReservation(parsed[i]);
      if (!why.empty()) {
        return Status::Invalid(parsed.size() > 1 ? "job " + std::to_string(i) + ": " + why : why);
      }
    }
    std::vector<int64_t> ids;
    ids.reserve(parsed.size());
    TimeMs now = WallNowMs();
    for (size_t i = 0; i < parsed.size(); ++i) {
      JobSpec& spec = parsed[i];
      JobId first = I.next_id;
      JobId payload_id = first;
      if (same_as_previous[i]) {
        payload_id = I.last_payload_id;  // the previous job's, stored or shared just now
      } else if (std::string payload = Store::EncodePayload(spec);
                 I.last_payload_id > 0 && payload == I.last_payload) {
        payload_id = I.last_payload_id;
      } else if (Status s = I.store->PutPayload(first, payload); !s.ok()) {
        spdlog::critical("state store: writing job {}: {}", first, s.message());
        std::abort();
      } else {
        I.last_payload = std::move(payload);
        I.last_payload_id = first;
      }
      spec.script.clear();
      spec.script.shrink_to_fit();
      spec.env.clear();
      spec.env.shrink_to_fit();
      spec.args.clear();
      std::vector<int32_t> indices = std::move(spec.array_indices);
      spec.array_indices.clear();
      const char* reason = spec.hold                    ? "JobHeldUser"
                           : !spec.dependencies.empty() ? "Dependency"
                           : I.nodes.empty()            ? "Nodes: none registered yet"
                                                        : "Priority";
      if (indices.empty()) {
        Job j;
        j.id = I.next_id++;
        j.spec = spec;
        j.payload_id = payload_id;
        j.submit_ms = now;
        j.reason = reason;
        I.Persist(j, b);
        I.FileJob(j);
        I.NoteActive(j, true);
        I.jobs.emplace(j.id, std::move(j));
      } else {
        // One row for the whole array; its tasks get Jobs of their own as they start
        // (job_array.h), except where a task's dependency depends on the task itself.
        std::sort(indices.begin(), indices.end());
        indices.erase(std::unique(indices.begin(), indices.end()), indices.end());
        Job t;
        t.id = first;
        t.spec = spec;
        t.spec.array_job_id = first;
        t.payload_id = payload_id;
        t.submit_ms = now;
        t.reason = reason;
        I.next_id += static_cast<JobId>(indices.size());
        JobArray& a =
            I.arrays.emplace(first, JobArray(std::move(t), std::move(indices))).first->second;
        I.PersistArray(a, b);
        I.NoteActive(a.templ(), true);
        I.FileRest(a);
        const bool per_task = std::any_of(spec.dependencies.begin(), spec.dependencies.end(),
                                          [](const JobSpec::Dependency& d) {
                                            return d.type == "singleton" || d.type == "aftercorr";
                                          });
        if (per_task) {
          for (JobId id = a.first(); id <= a.last(); ++id) I.Materialise(id, b);
        }
      }
      ids.push_back(first);
    }
    b.schedule = true;
    return ids;
  });
}

}  // namespace corral::ctld
