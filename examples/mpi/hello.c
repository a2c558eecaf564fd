/* Prints one line per MPI rank: which Corral node started it and which host it runs on,
 * then checks the ranks can talk (an allreduce of their ranks). Used by examples/mpi/hello.sh
 * and the 2-node integration test. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, size = 0, len = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  char host[MPI_MAX_PROCESSOR_NAME];
  MPI_Get_processor_name(host, &len);
  const char* node = getenv("CORRAL_NODENAME");
  int sum = 0;
  MPI_Allreduce(&rank, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  printf("rank %d of %d on node %s (host %s), allreduce %s\n", rank, size, node ? node : "?", host,
         sum == size * (size - 1) / 2 ? "ok" : "WRONG");
  fflush(stdout);
  MPI_Finalize();
  return sum == size * (size - 1) / 2 ? 0 : 1;
}
