#!/usr/bin/env bash
# Times a 16-point sweep against one detect at the same settings (benchmarks/RESULTS.md,
# "Sweeps"): yolo-lite-voc on dog.jpg at 128 ticks, 2 core counts x 2 placements x 2 routings
# x 2 multicasts, each sweep in a fresh --out directory (so that nothing is resumed), timed
# in turn with farm-bench, which prints the ratio sweep/detect pair by pair.
#
# Usage: benchmarks/sweep.sh SHARED_DATA_DIR [RUNS]
set -euo pipefail
data=${1:?usage: $0 SHARED_DATA_DIR [RUNS]}
data=$(cd "$data" && pwd)
runs=${2:-3}
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
bin=$tmp/spikeyolo
go build -o "$bin" ./cmd/spikeyolo
lite=$data/models/yolo-lite-voc
flags="--model $lite/tiny-yolov2-trial3-noBatch.cfg --weights $lite/tiny-yolov2-trial3-noBatch.weights --calib $data/images --timesteps 128 $data/images/dog.jpg"
farm-bench -n "$runs" --warmup 1 --timeout 1800 --vs "$bin detect --json $flags" -- \
  sh -c "rm -rf $tmp/out && exec $bin sweep --cores 0,2560 --placement traffic,order --routing xy,yx --multicast percore,tree --out $tmp/out $flags"
echo "the last sweep's table:"
column -s, -t < "$tmp/out/summary.csv"
