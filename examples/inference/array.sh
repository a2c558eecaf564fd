#!/bin/sh
#CORRAL -J infer
#CORRAL --array=0-3
#CORRAL -c 1
#CORRAL -t 5
#CORRAL -o infer-%A_%a.out
# Batch inference as an array job: one shard of the dataset per task, then a dependent job
# that merges the shards once every task has succeeded.
#
# Run it by hand (not through corral submit) and it submits itself and the merge job:
#   examples/inference/array.sh            # prints the two job ids
# Inside the array, each task runs the MLP over its shard (GPU if it has one, else the CPU twin).
SHARDS=4
if [ -z "$CORRAL_JOB_ID" ]; then
  array=$(corral submit --parsable "$0") || exit
  merge=$(corral submit --parsable -J infer-merge -d "afterok:$array" -o "infer-merge-%j.out" \
    --wrap "corral-infer --merge $(seq -s ' ' -f 'shard-%g.txt' 0 $((SHARDS - 1))) --out merged.txt")
  echo "array job $array (tasks ${array}_0..${array}_$((SHARDS - 1))), merge job $merge"
  exit 0
fi
exec corral-infer --shard "$CORRAL_ARRAY_TASK_ID" --shards "$SHARDS" --seed 7 \
  --out "shard-$CORRAL_ARRAY_TASK_ID.txt"
