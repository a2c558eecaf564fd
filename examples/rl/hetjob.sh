#!/bin/sh
#CORRAL -J rl
#CORRAL -n 1 --gpus=1
#CORRAL -t 5
#CORRAL hetjob
#CORRAL -N 2 -n 2
# Reinforcement learning as a heterogeneous job: component 0 is the learner on a GPU node
# (it falls back to the CPU twin where the GPU is simulated), component 1 is two CPU actors on
# two other nodes stepping CartPole environments. mpirun starts one program over both
# components (MPMD): rank 0 learns, ranks 1-2 send rollouts and receive weights.
exec mpirun -np 1 --host "$CORRAL_HET_HOSTS_0" corral-rl --iterations 60 --envs 64 --seed 3 \
  : -np 2 --host "$CORRAL_HET_HOSTS_1" corral-rl --iterations 60 --envs 64 --seed 3
