#!/bin/sh
#SBATCH -J cpu-tasks
#SBATCH -N 2
#SBATCH -n 4
#SBATCH -c 2
#SBATCH -t 2
# A 2-node CPU job: the batch script runs on the first node and sees the whole allocation.
echo "nodes: $SLURM_JOB_NODELIST ($SLURM_JOB_NUM_NODES), tasks: $SLURM_NTASKS x $SLURM_CPUS_PER_TASK CPUs"
sleep 1
