#include "kernels/device.h"

#include <gtest/gtest.h>

#include "kernels/allreduce.h"

namespace corral::kernels {
namespace {

TEST(Device, ResolvesChoices) {
  auto cpu = ResolveDevice("cpu");
  ASSERT_TRUE(cpu.ok());
  EXPECT_EQ(*cpu, Device::kCpu);

  auto autod = ResolveDevice("auto");
  ASSERT_TRUE(autod.ok());
  EXPECT_EQ(*autod, GpuPresent() ? Device::kGpu : Device::kCpu);

  auto gpu = ResolveDevice("gpu");
  EXPECT_EQ(gpu.ok(), GpuPresent());
  if (!gpu.ok()) {
    EXPECT_EQ(gpu.status().code(), Status::Code::kFailedPrecondition);
    EXPECT_NE(gpu.status().message().find("--device gpu"), std::string::npos);
  }

  auto bad = ResolveDevice("tpu");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Status::Code::kInvalid);
  EXPECT_NE(bad.status().message().find("'tpu'"), std::string::npos);
}

TEST(Device, DescribesWhatItFound) {
  EXPECT_FALSE(DescribeGpu().empty());
  EXPECT_EQ(GpuCount() > 0, GpuPresent());
  if (!BuiltWithCuda()) {
    EXPECT_FALSE(GpuPresent());
  }
  if (!GpuPresent()) {
    EXPECT_EQ(SelectGpu(0).code(), Status::Code::kFailedPrecondition);
  } else {
    EXPECT_EQ(SelectGpu(GpuCount()).code(), Status::Code::kInvalid);
  }
}

TEST(Allreduce, SingleProcessLeavesDataAlone) {
  auto ar = MakeSingleProcessAllreduce();
  float data[3] = {1.5f, -2.0f, 0.25f};
  ASSERT_TRUE(ar->Sum(data, 3, false).ok());
  EXPECT_EQ(data[0], 1.5f);
  EXPECT_EQ(data[1], -2.0f);
  EXPECT_EQ(data[2], 0.25f);
  EXPECT_EQ(ar->size(), 1);
  EXPECT_EQ(ar->rank(), 0);
}

}  // namespace
}  // namespace corral::kernels
