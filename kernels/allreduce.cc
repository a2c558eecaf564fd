#include "kernels/allreduce.h"

namespace corral::kernels {

namespace {

class SingleProcess : public Allreduce {
 public:
  Status Sum(float*, int64_t, bool) override { return Status::Ok(); }
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string Describe() const override { return "single process"; }
};

}  // namespace

std::unique_ptr<Allreduce> MakeSingleProcessAllreduce() {
  return std::make_unique<SingleProcess>();
}

}  // namespace corral::kernels
