// Starting MPI only when a process manager (mpirun, srun) launched this process as a rank, so
// the workload programs also run as one plain process (library corral_kernels_dist).
#pragma once

namespace corral::kernels {

struct MpiWorld {
  bool active = false;  // MPI_Init was called; call MPI_Finalize before exiting
  int rank = 0;
  int size = 1;
};

// True when the environment shows an MPI launcher (OMPI_COMM_WORLD_SIZE, PMIX_RANK, PMI_RANK).
bool LaunchedByMpi();
// Calls MPI_Init and reads rank and size when LaunchedByMpi(); else a world of one.
MpiWorld InitMpiIfLaunched(int* argc, char*** argv);

}  // namespace corral::kernels
