#!/bin/sh
#CORRAL -J ddp-train
#CORRAL -N 2
#CORRAL -n 2
#CORRAL -t 5
# Data-parallel training on two nodes, one rank per node: each rank computes the gradient of its
# half of every global batch, the ranks sum gradients with MPI_Allreduce (NCCL within a node when
# ranks share GPUs), and rank 0 prints "step N loss X". mpirun finds the job's hosts through the
# environment corral-node sets; no hostfile or ssh. Add "#CORRAL --gpus-per-node=1" to run the
# step on GPUs; without one it uses the CPU twin.
exec mpirun --map-by node "$(command -v corral-train)" --steps 50 --seed 7 --batch 512
