#!/bin/sh
#CORRAL -J gpu-pair
#CORRAL --gpus=h100:2
#CORRAL -c 4
#CORRAL -t 2
# Two H100s on one node: Corral picks two on the same NUMA node and exposes only those.
echo "node $CORRAL_NODENAME, CUDA_VISIBLE_DEVICES=$CUDA_VISIBLE_DEVICES"
sleep 2
