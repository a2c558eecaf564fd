/* bench/fabric's MPI figures between rank 0 and rank 1 (and all ranks for the allreduce):
 * the one-way latency of a 1-byte ping-pong, in microseconds, and the time of a 1 MiB
 * allreduce, in milliseconds, as medians of repeated rounds. Rank 0 prints
 * "lat_us=X allreduce_ms=Y". */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const int rounds = argc > 1 ? atoi(argv[1]) : 1000;
  char byte = 0;
  double* lat = calloc((size_t)rounds, sizeof(double));
  for (int i = -50; i < rounds; ++i) { /* the first 50 warm the path up */
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    if (rank == 0) {
      MPI_Send(&byte, 1, MPI_CHAR, 1, 0, MPI_COMM_WORLD);
      MPI_Recv(&byte, 1, MPI_CHAR, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    } else if (rank == 1) {
      MPI_Recv(&byte, 1, MPI_CHAR, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      MPI_Send(&byte, 1, MPI_CHAR, 0, 0, MPI_COMM_WORLD);
    }
    if (i >= 0) lat[i] = (MPI_Wtime() - t0) / 2 * 1e6;
  }
  const int n = (1 << 20) / (int)sizeof(float), reps = 30;
  float* in = malloc((size_t)n * sizeof(float));
  float* out = malloc((size_t)n * sizeof(float));
  for (int i = 0; i < n; ++i) in[i] = (float)rank;
  double* ar = calloc(reps, sizeof(double));
  for (int i = -3; i < reps; ++i) {
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    MPI_Allreduce(in, out, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    if (i >= 0) ar[i] = (MPI_Wtime() - t0) * 1e3;
  }
  float want = (float)(size * (size - 1) / 2);
  int ok = out[0] == want && out[n - 1] == want;
  if (rank == 0) {
    qsort(lat, (size_t)rounds, sizeof(double), cmp);
    qsort(ar, reps, sizeof(double), cmp);
    printf("lat_us=%.1f allreduce_ms=%.2f %s\n", lat[rounds / 2], ar[reps / 2],
           ok ? "ok" : "WRONG");
  }
  MPI_Finalize();
  return ok ? 0 : 1;
}
