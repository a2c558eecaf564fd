#include "kernels/mpi_world.h"

#include <mpi.h>

#include <cstdlib>

namespace corral::kernels {

bool LaunchedByMpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"}) {
    if (std::getenv(v)) return true;
  }
  return false;
}

MpiWorld InitMpiIfLaunched(int* argc, char*** argv) {
  MpiWorld w;
  if (!LaunchedByMpi()) return w;
  MPI_Init(argc, argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &w.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &w.size);
  w.active = true;
  return w;
}

}  // namespace corral::kernels
