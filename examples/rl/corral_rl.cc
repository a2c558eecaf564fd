// corral-rl: REINFORCE on batched CartPole.
//
// One process: each iteration steps --envs environments in lockstep (one episode each; on the GPU
// one thread per environment), then a policy-gradient learner updates the policy.
//
// Under mpirun with P > 1 ranks the work splits the way an RL heterogeneous job does: rank 0 is
// the learner; ranks 1..P-1 are actors, each stepping its slice of the environments. Every
// iteration the learner broadcasts the policy, the actors send their rollouts back, and the
// learner updates. Random draws depend on the global environment index only, so the split run
// prints exactly what the single-process run prints.
#include <mpi.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "kernels/device.h"
#include "kernels/mpi_allreduce.h"
#include "kernels/mpi_world.h"
#include "kernels/policy.h"
#include "kernels/reinforce.h"
#include "kernels/rollout.h"

namespace po = boost::program_options;
using namespace corral::kernels;

namespace {

struct Options {
  int iterations = 100;
  int envs = 64;
  uint64_t seed = 1;
  int hidden = 32;
  float lr = 0.02f;
  int max_steps = 500;
  std::string device = "auto";
};

RolloutSpec SliceSpec(const Options& o, int64_t first, int envs, int iteration) {
  RolloutSpec s;
  s.envs = envs;
  s.first_env = first;
  s.max_steps = o.max_steps;
  s.seed = o.seed;
  s.iteration = iteration;
  return s;
}

// Actor a (1-based) of `actors` steps environments [first, first + count).
void ActorSlice(const Options& o, int a, int actors, int64_t* first, int* count) {
  *first = static_cast<int64_t>(a - 1) * o.envs / actors;
  *count = static_cast<int>(static_cast<int64_t>(a) * o.envs / actors - *first);
}

// Rollout messages, actor -> learner: lengths, then actions, then observations.
enum Tag { kLengths = 1, kActions = 2, kObs = 3 };

void SendRollout(const Rollout& r) {
  MPI_Send(r.lengths.data(), r.envs, MPI_INT32_T, 0, kLengths, MPI_COMM_WORLD);
  MPI_Send(r.actions.data(), static_cast<int>(r.actions.size()), MPI_UINT8_T, 0, kActions,
           MPI_COMM_WORLD);
  MPI_Send(r.obs.data(), static_cast<int>(r.obs.size()), MPI_FLOAT, 0, kObs, MPI_COMM_WORLD);
}

Rollout ReceiveRollout(int from, int envs, int max_steps) {
  Rollout r;
  r.envs = envs;
  r.max_steps = max_steps;
  r.lengths.resize(static_cast<size_t>(envs));
  r.actions.resize(static_cast<size_t>(envs) * max_steps);
  r.obs.resize(static_cast<size_t>(envs) * max_steps * kPolicyObs);
  MPI_Recv(r.lengths.data(), envs, MPI_INT32_T, from, kLengths, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  MPI_Recv(r.actions.data(), static_cast<int>(r.actions.size()), MPI_UINT8_T, from, kActions,
           MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  MPI_Recv(r.obs.data(), static_cast<int>(r.obs.size()), MPI_FLOAT, from, kObs, MPI_COMM_WORLD,
           MPI_STATUS_IGNORE);
  return r;
}

int Fail(int rank, const std::string& what, bool mpi) {
  std::fprintf(stderr, "corral-rl (rank %d): %s\n", rank, what.c_str());
  if (mpi) MPI_Abort(MPI_COMM_WORLD, 1);
  return 1;
}

void Report(int it, const Rollout& r) {
  std::printf("iter %d mean_return %.2f\n", it, r.MeanReturn());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  po::options_description desc(
      "corral-rl: REINFORCE on batched CartPole; prints \"iter N mean_return R\".\n"
      "Under mpirun with several ranks, rank 0 learns and the other ranks act.\n\n"
      "Options");
  desc.add_options()("help,h", "show this help")(
      "iterations", po::value(&o.iterations)->default_value(o.iterations), "learner updates")(
      "envs", po::value(&o.envs)->default_value(o.envs),
      "environments per iteration (one episode each), split across actors")(
      "seed", po::value(&o.seed)->default_value(o.seed), "seed of the policy and environments")(
      "hidden", po::value(&o.hidden)->default_value(o.hidden), "policy hidden width (1-256)")(
      "lr", po::value(&o.lr)->default_value(o.lr), "Adam learning rate")(
      "max-steps", po::value(&o.max_steps)->default_value(o.max_steps), "episode cap")(
      "device", po::value(&o.device)->default_value(o.device),
      "where actors step environments: cpu, gpu or auto");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "corral-rl: %s (see --help)\n", e.what());
    return 2;
  }
  if (vm.count("help")) {
    std::cout
        << desc << "\nExamples:\n  corral-rl --iterations 100 --envs 64 --seed 3\n"
        << "  mpirun -n 3 corral-rl --iterations 100 --envs 64 --seed 3   # 1 learner, 2 actors\n";
    return 0;
  }
  if (o.iterations < 1 || o.envs < 1 || o.hidden < 1 || o.hidden > 256 || o.max_steps < 1 ||
      !(o.lr > 0)) {
    std::fprintf(stderr,
                 "corral-rl: --iterations, --envs, --max-steps, --lr must be positive and --hidden "
                 "in [1, 256]\n");
    return 2;
  }

  const MpiWorld world = InitMpiIfLaunched(&argc, &argv);
  const bool mpi = world.active;
  const int rank = world.rank, size = world.size;
  const int actors = size - 1;
  if (actors > o.envs) return Fail(rank, "more actor ranks than environments", mpi);
  auto device = ResolveDevice(o.device);
  if (!device.ok()) return Fail(rank, device.status().message(), mpi);
  if (*device == Device::kGpu) {
    const int local = mpi ? LocalRank(MPI_COMM_WORLD) : 0;
    if (auto st = SelectGpu(local % GpuCount()); !st.ok()) return Fail(rank, st.message(), mpi);
  }

  ReinforceConfig cfg;
  cfg.hidden = o.hidden;
  cfg.learning_rate = o.lr;
  const auto start = std::chrono::steady_clock::now();
  double first = 0, last = 0;

  if (size == 1) {
    std::printf("corral-rl: single process, %d envs on %s, policy 4-%d-2\n", o.envs,
                DeviceName(*device), o.hidden);
    ReinforceLearner learner(cfg, o.seed);
    for (int it = 0; it < o.iterations; ++it) {
      auto r = CollectRollouts(SliceSpec(o, 0, o.envs, it), learner.policy(), o.hidden, *device);
      if (!r.ok()) return Fail(rank, r.status().message(), mpi);
      Report(it, *r);
      if (it == 0) first = r->MeanReturn();
      last = r->MeanReturn();
      if (auto st = learner.Update(*r); !st.ok()) return Fail(rank, st.message(), mpi);
    }
  } else if (rank == 0) {
    std::printf("corral-rl: learner on rank 0, %d actor rank(s) stepping %d envs, policy 4-%d-2\n",
                actors, o.envs, o.hidden);
    ReinforceLearner learner(cfg, o.seed);
    std::vector<float> policy = learner.policy();
    for (int it = 0; it < o.iterations; ++it) {
      policy = learner.policy();
      MPI_Bcast(policy.data(), static_cast<int>(policy.size()), MPI_FLOAT, 0, MPI_COMM_WORLD);
      std::vector<Rollout> parts;
      for (int a = 1; a <= actors; ++a) {
        int64_t slice_first = 0;
        int count = 0;
        ActorSlice(o, a, actors, &slice_first, &count);
        parts.push_back(ReceiveRollout(a, count, o.max_steps));
      }
      const Rollout r = ConcatRollouts(parts);
      Report(it, r);
      if (it == 0) first = r.MeanReturn();
      last = r.MeanReturn();
      if (auto st = learner.Update(r); !st.ok()) return Fail(rank, st.message(), mpi);
    }
  } else {
    int64_t slice_first = 0;
    int count = 0;
    ActorSlice(o, rank, actors, &slice_first, &count);
    std::vector<float> policy(static_cast<size_t>(PolicyParamCount(o.hidden)));
    for (int it = 0; it < o.iterations; ++it) {
      MPI_Bcast(policy.data(), static_cast<int>(policy.size()), MPI_FLOAT, 0, MPI_COMM_WORLD);
      auto r = CollectRollouts(SliceSpec(o, slice_first, count, it), policy, o.hidden, *device);
      if (!r.ok()) return Fail(rank, r.status().message(), mpi);
      SendRollout(*r);
    }
  }
  if (rank == 0) {
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("done: mean_return %.2f -> %.2f (%s), %d iterations in %.2f s\n", first, last,
                last > first ? "rose" : "DID NOT RISE", o.iterations, secs);
  }
  if (mpi) MPI_Finalize();
  return 0;
}
