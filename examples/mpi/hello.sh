#!/bin/sh
#CORRAL -J mpi-hello
#CORRAL -N 2
#CORRAL -n 2
#CORRAL -t 2
# Two nodes, one rank each. mpirun finds the job's hosts and Corral's launch agent (corral-rsh)
# through the environment that corral-node sets, so no hostfile or ssh is needed.
exec mpirun --map-by node "${CORRAL_BIN:-$(dirname "$(command -v corral)")}/mpi_hello"
