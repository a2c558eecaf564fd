#!/bin/sh
#SBATCH -J hello
#SBATCH -n 1
#SBATCH -t 1
# The smallest job: where it ran and what Corral told it.
echo "hello from $CORRAL_NODENAME, job $SLURM_JOB_ID in $SLURM_SUBMIT_DIR"
