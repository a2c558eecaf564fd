#!/bin/sh
# Data parallelism end to end, on the CPU twins:
#  - corral-train on 1 and on 2 MPI ranks (same seed, same global batch) prints the same loss
#    curve, within float summation-order tolerance, and the loss falls;
#  - corral-rl split into a learner and 2 actors prints exactly what one process prints.
# Usage: ranks_agree_test.sh CORRAL_TRAIN CORRAL_RL
set -eu
train=$1
rl=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpi() {
  n=$1
  shift
  mpirun -n "$n" --oversubscribe --mca btl self,tcp --mca mpi_yield_when_idle 1 "$@"
}

mpi 1 "$train" --device cpu --steps 30 --seed 5 --batch 96 | grep '^step' > "$tmp/train1"
mpi 2 "$train" --device cpu --steps 30 --seed 5 --batch 96 | grep '^step' > "$tmp/train2"
awk '
  NR == FNR { want[$2] = $4; next }
  {
    d = $4 - want[$2]; if (d < 0) d = -d
    if (d > 1e-4 * (1 + want[$2])) { print "step " $2 ": 1 rank " want[$2] ", 2 ranks " $4; bad = 1 }
    n++; last = $4
    if (FNR == 1) first = $4
  }
  END {
    if (n != 30) { print "expected 30 steps from 2 ranks, got " n; exit 1 }
    if (!(last < first)) { print "loss did not fall: " first " -> " last; exit 1 }
    exit bad
  }' "$tmp/train1" "$tmp/train2"

mpi 1 "$rl" --device cpu --iterations 8 --envs 12 --max-steps 100 --seed 2 | grep '^iter' > "$tmp/rl1"
mpi 3 "$rl" --device cpu --iterations 8 --envs 12 --max-steps 100 --seed 2 | grep '^iter' > "$tmp/rl3"
if ! cmp -s "$tmp/rl1" "$tmp/rl3"; then
  echo "corral-rl: learner + 2 actors differ from one process:"
  diff "$tmp/rl1" "$tmp/rl3" || true
  exit 1
fi
[ "$(wc -l < "$tmp/rl3")" -eq 8 ] || { echo "corral-rl: expected 8 iterations"; exit 1; }
echo "ok: 1 and 2 training ranks agree; RL actor/learner split matches one process"
