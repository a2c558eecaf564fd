// The commands of the RPC API that change jobs a user names: cancel, release, requeue and
// complete (the end of a `corral run` allocation). Each names jobs by id, an array's first id
// meaning every task of it. Methods of Controller, run on the writer thread.
#include "common/time.h"
#include "sched/ctld/controller_impl.h"

namespace corral::ctld {
// Calls fn(job) for each job the ids name (an array's first id names every task), after the
// checks Cancel, Release and Requeue share; errors go to `errors`, one per id. For an array's
// tasks without a Job of their own: named with the array, rest_fn(array) acts on them all at
// once; named alone, they get a Job of their own when `materialise`, else fn sees the task as
// it would be (and must not change it).
template <typename Fn, typename RestFn>
static void ForEachNamedJob(Controller::Impl& I,
                            const google::protobuf::RepeatedField<int64_t>& ids,
                            const std::string& user, bool materialise, Batch& b,
                            google::protobuf::RepeatedPtrField<std::string>* errors, Fn fn,
                            RestFn rest_fn) {
  for (int64_t asked : ids) {
    const std::string shown = "job " + std::to_string(asked);
    if (auto arr = I.arrays.find(asked); arr != I.arrays.end()) {
      JobArray& a = arr->second;
      if (!user.empty() && a.templ().spec.user != user) {
        errors->Add(shown + ": belongs to another user");
        continue;
      }
      // Tasks of the array that the action does not apply to are skipped quietly.
      for (auto it = I.jobs.lower_bound(a.first()); it != I.jobs.end() && it->first <= a.last();
           ++it) {
        fn(it->second);
      }
      if (a.RestActive()) rest_fn(a);
      continue;
    }
    Job scratch;
    const JobArray* of = I.ArrayOf(asked);
    Job* j = materialise && (!of || of->RestActive()) ? I.Materialise(asked, b)
                                                      : const_cast<Job*>(I.Lookup(asked, &scratch));
    if (!j) {
      errors->Add(shown + ": no such job");
    } else if (!user.empty() && j->spec.user != user) {
      errors->Add(shown + ": belongs to another user");
    } else if (std::string why = fn(*j); !why.empty()) {
      errors->Add(shown + ": " + why);
    }
  }
}

v1::CancelReply Controller::Cancel(const v1::CancelRequest& req) {
  return Impl::Await<v1::CancelReply>(
      [&](std::function<void(v1::CancelReply)> done) { Cancel(req, std::move(done)); });
}

void Controller::Cancel(const v1::CancelRequest& req, std::function<void(v1::CancelReply)> done) {
  impl_->RunAsync<v1::CancelReply>(
      [this, req](Batch& b) {
        Impl& I = *impl_;
        v1::CancelReply reply;
        TimeMs now = WallNowMs();
        ForEachNamedJob(
            I, req.ids(), req.user(), true, b, reply.mutable_errors(),
            [&](Job& j) {
              if (IsTerminal(j.state)) return std::string("already ") + JobStateName(j.state);
              bool was_running = j.state == JobState::kRunning;
              if (was_running) I.StopOnNodes(j, "", b);
              I.Finish(j, JobState::kCancelled, was_running ? 128 + 15 : 0, now,
                       "cancelled by user", b);
              reply.add_cancelled(j.id);
              return std::string();
            },
            [&](JobArray& a) {
              a.ForEachRest([&](JobId id) { reply.add_cancelled(id); });
              I.CancelRest(a, now, b);
            });
        return reply;
      },
      std::move(done));
}

v1::ReleaseReply Controller::Release(const v1::ReleaseRequest& req) {
  return impl_->Run<v1::ReleaseReply>([this, req](Batch& b) {
    Impl& I = *impl_;
    v1::ReleaseReply reply;
    ForEachNamedJob(
        I, req.ids(), req.user(), true, b, reply.mutable_errors(),
        [&](Job& j) {
          if (j.state != JobState::kPending || !j.spec.hold) return std::string("not held");
          j.spec.hold = false;
          j.reason = j.spec.dependencies.empty() ? "Priority" : "Dependency";
          I.held.erase(j.id);
          I.FileJob(j);
          I.Persist(j, b);
          reply.add_released(j.id);
          return std::string();
        },
        [&](JobArray& a) {
          if (!a.templ().spec.hold) return;
          a.ForEachRest([&](JobId id) { reply.add_released(id); });
          I.ReleaseRest(a, b);
        });
    b.schedule = true;
    return reply;
  });
}

v1::RequeueReply Controller::Requeue(const v1::RequeueRequest& req) {
  return impl_->Run<v1::RequeueReply>([this, req](Batch& b) {
    Impl& I = *impl_;
    v1::RequeueReply reply;
    ForEachNamedJob(
        I, req.ids(), req.user(), false, b, reply.mutable_errors(),
        [&](Job& j) {
          if (j.state != JobState::kRunning) {
            return std::string("is ") + JobStateName(j.state) + "; only running jobs are requeued";
          }
          if (j.spec.interactive) {
            return std::string("is a corral run allocation; it is not requeued");
          }
          if (!j.spec.requeue) return std::string("was submitted with --no-requeue");
          I.Requeue(j, "Requeued: by request", b);
          reply.add_requeued(j.id);
          return std::string();
        },
        [](JobArray&) {});
    return reply;
  });
}

Status Controller::Complete(const v1::CompleteRequest& req) {
  return impl_->Run<Status>([this, req](Batch& b) -> Status {
    Impl& I = *impl_;
    auto it = I.jobs.find(req.job_id());
    if (it == I.jobs.end()) {
      return Status::NotFound(
          "job " + std::to_string(req.job_id()) + ": " +
          (I.ArrayOf(req.job_id()) ? "is an array task, not a corral run" : "no such job"));
    }
    Job& j = it->second;
    if (!req.user().empty() && j.spec.user != req.user()) {
      return Status::PermissionDenied("job " + std::to_string(j.id) + ": belongs to another user");
    }
    if (!j.spec.interactive) {
      return Status::FailedPrecondition("job " + std::to_string(j.id) +
                                        " is a batch job; it ends when its script does");
    }
    if (j.state != JobState::kRunning) {
      return Status::FailedPrecondition("job " + std::to_string(j.id) + " is " +
                                        JobStateName(j.state) + ", not RUNNING");
    }
    I.StopOnNodes(j, "", b);
    I.Finish(j, req.exit_code() == 0 ? JobState::kCompleted : JobState::kFailed, req.exit_code(),
             WallNowMs(), "", b);
    return Status::Ok();
  });
}

}  // namespace corral::ctld
