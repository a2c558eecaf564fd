/* slurm_submit: Slurm's side of the "separate jobs by API" workload in bench/vs-slurm/run.
 * Submits COUNT batch jobs running `true` through libslurm's slurm_submit_batch_job, one
 * request per job from this one process, as submit_api does for Corral with --per-call 1.
 * The job is what `sbatch -o /dev/null -D WORKDIR --wrap true` sends. Built by the run script
 * (libslurm-dev); nothing else in the project uses Slurm.
 *
 *   slurm_submit COUNT WORKDIR [--hold]     --hold: held, as `sbatch --hold` (priority 0)
 * Prints "submitted=N calls=N seconds=S per_s=R first_id=A last_id=B". */
#include <slurm/slurm.h>
#include <slurm/slurm_errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

extern char** environ;

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char** argv) {
  int hold = argc == 4 && strcmp(argv[3], "--hold") == 0;
  if ((argc != 3 && !hold) || atol(argv[1]) <= 0) {
    fprintf(stderr, "usage: slurm_submit COUNT WORKDIR [--hold]\n");
    return 2;
  }
  long count = atol(argv[1]);
  slurm_init(NULL); /* SLURM_CONF names the private cluster's slurm.conf */
  job_desc_msg_t d;
  slurm_init_job_desc_msg(&d);
  d.name = "wrap";
  d.script = "#!/bin/sh\n# This script was created by sbatch --wrap.\n\ntrue\n";
  d.work_dir = argv[2];
  d.std_out = "/dev/null";
  d.user_id = getuid();
  d.group_id = getgid();
  d.min_nodes = 1;
  d.num_tasks = 1;
  if (hold) d.priority = 0;
  /* Batch jobs must carry an environment, as sbatch sends its own. */
  d.environment = environ;
  d.env_size = 0;
  while (environ[d.env_size]) d.env_size++;
  uint32_t first = 0, last = 0;
  double t0 = now_s();
  for (long i = 0; i < count; i++) {
    submit_response_msg_t* r = NULL;
    if (slurm_submit_batch_job(&d, &r) != SLURM_SUCCESS) {
      fprintf(stderr, "slurm_submit: job %ld of %ld: %s\n", i + 1, count,
              slurm_strerror(slurm_get_errno()));
      return 1;
    }
    if (i == 0) first = r->job_id;
    last = r->job_id;
    slurm_free_submit_response_response_msg(r);
  }
  double secs = now_s() - t0;
  printf("submitted=%ld calls=%ld seconds=%.6f per_s=%.0f first_id=%u last_id=%u\n", count, count,
         secs, (double)count / secs, first, last);
  slurm_fini();
  return 0;
}
