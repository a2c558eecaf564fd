// corral-train: data-parallel SGD of an MLP on a synthetic, seeded regression task.
//
// Every rank builds the same model from --seed. At step t the global batch is rows
// 0..batch-1 of the stream (seed, t); rank r of P takes rows [r·B/P, (r+1)·B/P), computes loss
// and gradient sums on its slice (GPU when present), the ranks sum them (MPI_Allreduce; NCCL
// within a node on GPUs), and every rank applies the same update. So 1 rank and P ranks with
// the same seed and batch print the same loss curve, up to float summation order.
//
// Under mpirun each rank is one process; run directly it is a single process without MPI.
#include <mpi.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "kernels/allreduce.h"
#include "kernels/device.h"
#include "kernels/mlp.h"
#include "kernels/mpi_allreduce.h"
#include "kernels/mpi_world.h"
#include "kernels/seeded.h"
#include "kernels/train_step.h"

namespace po = boost::program_options;
using namespace corral::kernels;

namespace {

struct Options {
  int steps = 50;
  uint64_t seed = 1;
  int64_t batch = 256;
  int inputs = 16;
  int hidden = 64;
  float lr = 0.05f;
  std::string device = "auto";
};

// The task: y = teacher(x) for a fixed random teacher network; x uniform in [-1, 1).
void MakeSlice(const Options& o, const Mlp& teacher, int step, int64_t first, int64_t rows,
               std::vector<float>* x, std::vector<float>* y) {
  x->resize(static_cast<size_t>(rows * o.inputs));
  for (int64_t r = 0; r < rows; ++r) {
    for (int i = 0; i < o.inputs; ++i) {
      (*x)[r * o.inputs + i] =
          Symmetric(Hash(o.seed, static_cast<uint64_t>(step), static_cast<uint64_t>(first + r), i));
    }
  }
  *y = MlpForwardCpu(teacher, x->data(), rows);
}

// "0@node-a 1@node-b", gathered on rank 0 (the Corral node name, else the host name).
std::string RankPlacement(int rank, int size, bool mpi) {
  std::string mine = "local";
  if (const char* node = std::getenv("CORRAL_NODENAME")) {
    mine = node;
  } else if (mpi) {
    int len = 0;
    char host[MPI_MAX_PROCESSOR_NAME];
    MPI_Get_processor_name(host, &len);
    mine.assign(host, static_cast<size_t>(len));
  }
  char name[64] = {};
  mine.copy(name, sizeof name - 1);
  std::vector<char> all(sizeof name * static_cast<size_t>(size));
  if (mpi) {
    MPI_Gather(name, sizeof name, MPI_CHAR, all.data(), sizeof name, MPI_CHAR, 0, MPI_COMM_WORLD);
  } else {
    std::copy(name, name + sizeof name, all.begin());
  }
  std::string out;
  for (int r = 0; rank == 0 && r < size; ++r) {
    out += (r ? " " : "") + std::to_string(r) + "@" + std::string(&all[sizeof name * r]);
  }
  return out;
}

int Fail(int rank, const std::string& what, bool mpi) {
  std::fprintf(stderr, "corral-train (rank %d): %s\n", rank, what.c_str());
  if (mpi) MPI_Abort(MPI_COMM_WORLD, 1);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  po::options_description desc(
      "corral-train: data-parallel SGD of an MLP on a synthetic regression task.\n"
      "Run it under mpirun for several ranks; rank 0 prints \"step N loss X\".\n\n"
      "Options");
  desc.add_options()("help,h", "show this help")(
      "steps", po::value(&o.steps)->default_value(o.steps), "SGD steps")(
      "seed", po::value(&o.seed)->default_value(o.seed), "seed of the data and the model")(
      "batch", po::value(&o.batch)->default_value(o.batch),
      "global batch (rows per step, split across ranks)")(
      "inputs", po::value(&o.inputs)->default_value(o.inputs), "input features")(
      "hidden", po::value(&o.hidden)->default_value(o.hidden), "width of the two hidden layers")(
      "lr", po::value(&o.lr)->default_value(o.lr), "learning rate")(
      "device", po::value(&o.device)->default_value(o.device), "cpu, gpu or auto");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "corral-train: %s (see --help)\n", e.what());
    return 2;
  }
  if (vm.count("help")) {
    std::cout << desc << "\nExample:\n  mpirun -n 2 corral-train --steps 50 --seed 7 --batch 512\n";
    return 0;
  }
  if (o.steps < 1 || o.batch < 1 || o.inputs < 1 || o.hidden < 1 || !(o.lr > 0)) {
    std::fprintf(stderr,
                 "corral-train: --steps, --batch, --inputs, --hidden and --lr must be positive\n");
    return 2;
  }

  const MpiWorld world = InitMpiIfLaunched(&argc, &argv);
  const bool mpi = world.active;
  const int rank = world.rank, size = world.size;
  auto device = ResolveDevice(o.device);
  if (!device.ok()) return Fail(rank, device.status().message(), mpi);
  if (*device == Device::kGpu) {
    const int local = mpi ? LocalRank(MPI_COMM_WORLD) : 0;
    if (auto st = SelectGpu(local % GpuCount()); !st.ok()) return Fail(rank, st.message(), mpi);
  }
  std::unique_ptr<Allreduce> allreduce;
  if (size > 1) {
    auto made = MakeMpiAllreduce(MPI_COMM_WORLD, *device == Device::kGpu);
    if (!made.ok()) return Fail(rank, made.status().message(), mpi);
    allreduce = std::move(*made);
  } else {
    allreduce = MakeSingleProcessAllreduce();
  }

  const Mlp teacher = MlpSeeded({o.inputs, 32, 1}, o.seed ^ 0x7465616368ULL);
  const Mlp student = MlpSeeded({o.inputs, o.hidden, o.hidden, 1}, o.seed);
  const int64_t first = rank * o.batch / size;
  const int64_t rows = (rank + 1) * o.batch / size - first;
  auto step = TrainStep::Create(student, std::max<int64_t>(rows, 1), *device);
  if (!step.ok()) return Fail(rank, step.status().message(), mpi);

  const std::string where = RankPlacement(rank, size, mpi);
  if (rank == 0) {
    std::printf("corral-train: %d rank(s), device %s (%s), allreduce %s\n", size,
                DeviceName(*device), *device == Device::kGpu ? DescribeGpu().c_str() : "CPU twin",
                allreduce->Describe().c_str());
    std::printf("model %d-%d-%d-1 (%lld parameters), global batch %lld, lr %g, seed %llu\n",
                o.inputs, o.hidden, o.hidden, static_cast<long long>(student.params.size()),
                static_cast<long long>(o.batch), static_cast<double>(o.lr),
                static_cast<unsigned long long>(o.seed));
    std::printf("ranks: %s\n", where.c_str());
    std::fflush(stdout);
  }
  std::vector<float> x, y;
  float first_loss = 0, last_loss = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < o.steps; ++t) {
    MakeSlice(o, teacher, t, first, rows, &x, &y);
    if (auto st = (*step)->Backward(x.data(), y.data(), rows); !st.ok()) {
      return Fail(rank, st.message(), mpi);
    }
    if (auto st =
            allreduce->Sum((*step)->GradientBuffer(), (*step)->BufferSize(), (*step)->OnDevice());
        !st.ok()) {
      return Fail(rank, st.message(), mpi);
    }
    auto loss = (*step)->Apply(o.lr, o.batch);
    if (!loss.ok()) return Fail(rank, loss.status().message(), mpi);
    if (t == 0) first_loss = *loss;
    last_loss = *loss;
    if (rank == 0) {
      std::printf("step %d loss %.6f\n", t, static_cast<double>(*loss));
      std::fflush(stdout);
    }
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (rank == 0) {
    std::printf("done: loss %.6f -> %.6f (%s), %d steps in %.2f s (%.2f ms/step)\n",
                static_cast<double>(first_loss), static_cast<double>(last_loss),
                last_loss < first_loss ? "fell" : "DID NOT FALL", o.steps, secs,
                1e3 * secs / o.steps);
  }
  if (mpi) MPI_Finalize();
  return 0;
}
