// GPU tests skip, saying why, where no GPU is present (any cudaGetDeviceCount error counts).
#pragma once

#include <gtest/gtest.h>

#include "kernels/device.h"

#define CORRAL_REQUIRE_GPU()                            \
  do {                                                  \
    if (!::corral::kernels::GpuPresent()) {             \
      GTEST_SKIP() << ::corral::kernels::DescribeGpu(); \
    }                                                   \
  } while (0)
