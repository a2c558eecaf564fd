// corral-infer: batch inference over one shard of a synthetic, seeded dataset, and the merge of
// shard outputs. One array task runs one shard; a final job merges:
//
//   corral-infer --shard 2 --shards 4 --seed 7 --out out-2.txt
//   corral-infer --merge out-*.txt --out all.txt
//
// The dataset has --rows rows of 64 features, row r drawn from (seed, r); the model is an MLP
// 64-H-H-10 drawn from the seed (GEMMs with a fused bias + GELU epilogue, on the GPU when
// present). Each output line is "row class score". The checksum is a sum over rows of a hash of
// (row, class), so shards merge in any order to the same total.
#include <algorithm>
#include <boost/program_options.hpp>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/device.h"
#include "kernels/mlp.h"
#include "kernels/seeded.h"

namespace po = boost::program_options;
using namespace corral::kernels;

namespace {

constexpr int kFeatures = 64;
constexpr int kClasses = 10;

struct Header {
  int64_t shards = 0;
  uint64_t seed = 0;
  int64_t dataset = 0;
};

uint64_t RowTerm(int64_t row, int cls) {
  return Mix64(Hash(0x696e666572ULL, static_cast<uint64_t>(row)) ^ static_cast<uint64_t>(cls));
}

std::string Hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%016" PRIx64, v);
  return buf;
}

int RunShard(int64_t shard, int64_t shards, uint64_t seed, int64_t dataset, int hidden,
             const std::string& device_choice, const std::string& out_path) {
  if (shards < 1 || shard < 0 || shard >= shards) {
    std::fprintf(stderr, "corral-infer: --shard must be in [0, --shards)\n");
    return 2;
  }
  auto device = ResolveDevice(device_choice);
  if (!device.ok()) {
    std::fprintf(stderr, "corral-infer: %s\n", device.status().message().c_str());
    return 2;
  }
  const int64_t first = shard * dataset / shards;
  const int64_t rows = (shard + 1) * dataset / shards - first;
  std::vector<float> x(static_cast<size_t>(rows * kFeatures));
  for (int64_t r = 0; r < rows; ++r) {
    for (int j = 0; j < kFeatures; ++j) {
      x[r * kFeatures + j] = Symmetric(Hash(seed, static_cast<uint64_t>(first + r), j));
    }
  }
  const Mlp model = MlpSeeded({kFeatures, hidden, hidden, kClasses}, seed ^ 0x6d6f64656cULL);
  const auto start = std::chrono::steady_clock::now();
  auto logits = MlpForward(model, x.data(), rows, *device);
  if (!logits.ok()) {
    std::fprintf(stderr, "corral-infer: %s\n", logits.status().message().c_str());
    return 1;
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::ofstream out(out_path);
  if (!out) {
    std::fprintf(stderr, "corral-infer: cannot write %s\n", out_path.c_str());
    return 1;
  }
  out << "# corral-infer shard=" << shard << " shards=" << shards << " seed=" << seed
      << " dataset=" << dataset << " rows=" << first << "-" << first + rows - 1
      << " model=" << kFeatures << "-" << hidden << "-" << hidden << "-" << kClasses
      << " device=" << DeviceName(*device) << "\n";
  uint64_t checksum = 0;
  char line[96];
  for (int64_t r = 0; r < rows; ++r) {
    const float* l = &(*logits)[r * kClasses];
    const int cls = static_cast<int>(std::max_element(l, l + kClasses) - l);
    checksum += RowTerm(first + r, cls);
    std::snprintf(line, sizeof line, "%lld %d %.5f\n", static_cast<long long>(first + r), cls,
                  static_cast<double>(l[cls]));
    out << line;
  }
  out << "# checksum " << Hex(checksum) << "\n";
  out.close();
  if (!out) {
    std::fprintf(stderr, "corral-infer: writing %s failed\n", out_path.c_str());
    return 1;
  }
  std::printf("shard %lld/%lld: rows %lld-%lld (%lld) on %s in %.3f s, checksum %s -> %s\n",
              static_cast<long long>(shard), static_cast<long long>(shards),
              static_cast<long long>(first), static_cast<long long>(first + rows - 1),
              static_cast<long long>(rows), DeviceName(*device), secs, Hex(checksum).c_str(),
              out_path.c_str());
  return 0;
}

// Reads "key=value" pairs from a shard's first line.
bool ParseHeader(const std::string& line, Header* h) {
  if (line.rfind("# corral-infer ", 0) != 0) return false;
  std::istringstream in(line.substr(15));
  std::string kv;
  int found = 0;
  while (in >> kv) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = kv.substr(0, eq), value = kv.substr(eq + 1);
    try {
      if (key == "shards") h->shards = std::stoll(value), ++found;
      if (key == "seed") h->seed = std::stoull(value), ++found;
      if (key == "dataset") h->dataset = std::stoll(value), ++found;
    } catch (const std::exception&) {
      return false;
    }
  }
  return found == 3;
}

int Merge(const std::vector<std::string>& files, const std::string& out_path) {
  std::map<int64_t, std::pair<int, std::string>> rows;  // row -> (class, line)
  Header first{};
  for (size_t f = 0; f < files.size(); ++f) {
    std::ifstream in(files[f]);
    std::string line;
    Header h{};
    if (!in || !std::getline(in, line) || !ParseHeader(line, &h)) {
      std::fprintf(stderr, "corral-infer --merge: %s is not a corral-infer shard output\n",
                   files[f].c_str());
      return 1;
    }
    if (f == 0) first = h;
    if (h.seed != first.seed || h.dataset != first.dataset || h.shards != first.shards) {
      std::fprintf(
          stderr,
          "corral-infer --merge: %s comes from another run (seed, dataset or shards differ)\n",
          files[f].c_str());
      return 1;
    }
    bool complete = false;
    while (std::getline(in, line)) {
      if (line.rfind("# checksum", 0) == 0) {
        complete = true;
        continue;
      }
      if (line.empty() || line[0] == '#') continue;
      long long row = 0;
      int cls = 0;
      if (std::sscanf(line.c_str(), "%lld %d", &row, &cls) != 2) {
        std::fprintf(stderr, "corral-infer --merge: %s: bad line '%s'\n", files[f].c_str(),
                     line.c_str());
        return 1;
      }
      if (!rows.emplace(row, std::make_pair(cls, line)).second) {
        std::fprintf(stderr, "corral-infer --merge: row %lld appears twice (again in %s)\n", row,
                     files[f].c_str());
        return 1;
      }
    }
    if (!complete) {
      std::fprintf(stderr, "corral-infer --merge: %s is truncated (no checksum line)\n",
                   files[f].c_str());
      return 1;
    }
  }
  uint64_t checksum = 0;
  std::ofstream out(out_path);
  out << "# corral-infer merged files=" << files.size() << " shards=" << first.shards
      << " seed=" << first.seed << " dataset=" << first.dataset << "\n";
  for (const auto& [row, v] : rows) {
    checksum += RowTerm(row, v.first);
    out << v.second << "\n";
  }
  out << "# checksum " << Hex(checksum) << "\n";
  out.close();
  if (!out) {
    std::fprintf(stderr, "corral-infer --merge: writing %s failed\n", out_path.c_str());
    return 1;
  }
  const auto missing = first.dataset - static_cast<int64_t>(rows.size());
  std::printf("merged %zu file(s): %zu rows, checksum %s -> %s\n", files.size(), rows.size(),
              Hex(checksum).c_str(), out_path.c_str());
  if (missing != 0) {
    std::fprintf(stderr, "corral-infer --merge: %lld of %lld rows missing (a shard is absent)\n",
                 static_cast<long long>(missing), static_cast<long long>(first.dataset));
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t shard = 0, shards = 1, dataset = 20000;
  uint64_t seed = 1;
  int hidden = 128;
  std::string device = "auto", out;
  std::vector<std::string> merge;
  po::options_description desc(
      "corral-infer: MLP inference over one shard of a synthetic dataset, or the merge of "
      "shard outputs.\n\n"
      "  corral-infer --shard I --shards N --seed S --out FILE\n"
      "  corral-infer --merge FILES... --out FILE\n\n"
      "Options");
  desc.add_options()("help,h", "show this help")("shard", po::value(&shard)->default_value(shard),
                                                 "this shard's index, 0-based")(
      "shards", po::value(&shards)->default_value(shards), "number of shards")(
      "seed", po::value(&seed)->default_value(seed), "seed of the dataset and the model")(
      "rows", po::value(&dataset)->default_value(dataset), "rows in the whole dataset")(
      "hidden", po::value(&hidden)->default_value(hidden), "width of the two hidden layers")(
      "device", po::value(&device)->default_value(device), "cpu, gpu or auto")(
      "merge", po::value(&merge)->multitoken(), "merge these shard outputs instead")(
      "out", po::value(&out), "output file (required)");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "corral-infer: %s (see --help)\n", e.what());
    return 2;
  }
  if (vm.count("help")) {
    std::cout << desc << "\nInside a Corral array job:\n"
              << "  corral-infer --shard $CORRAL_ARRAY_TASK_ID --shards 4 --seed 7 --out "
                 "out-$CORRAL_ARRAY_TASK_ID.txt\n";
    return 0;
  }
  if (out.empty()) {
    std::fprintf(stderr, "corral-infer: --out is required (see --help)\n");
    return 2;
  }
  if (vm.count("merge")) {
    if (merge.empty()) {
      std::fprintf(stderr, "corral-infer: --merge needs at least one file\n");
      return 2;
    }
    return Merge(merge, out);
  }
  if (dataset < 1 || hidden < 1 || hidden > 65536) {
    std::fprintf(stderr, "corral-infer: --rows and --hidden must be positive\n");
    return 2;
  }
  return RunShard(shard, shards, seed, dataset, hidden, device, out);
}
