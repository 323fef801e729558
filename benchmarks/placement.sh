#!/usr/bin/env bash
# Measures traffic placement against layer order (benchmarks/RESULTS.md, "Mapping"): for each
# model and architecture, spikeyolo detect on dog.jpg at 256 ticks with --placement order and
# --placement traffic on the same partition (same cores), and the ratios of chip crossings,
# packet-hops, frame latency and energy per frame. Spikes and detections must be equal.
# Writes benchmarks/results/placement.txt; takes about 10 minutes on two cores.
#
# Usage: benchmarks/placement.sh SHARED_DATA_DIR
set -euo pipefail
data=${1:?usage: $0 SHARED_DATA_DIR}
data=$(cd "$data" && pwd)
cd "$(dirname "$0")/.."
mkdir -p benchmarks/results
bin=$(mktemp -d)/spikeyolo
go build -o "$bin" ./cmd/spikeyolo
out=benchmarks/results/placement.txt
lite=$data/models/yolo-lite-voc
# name, flags
runs=(
  "yolo-fastest-1.1-coco/loihi|"
  "yolo-lite-voc/loihi|--model $lite/tiny-yolov2-trial3-noBatch.cfg --weights $lite/tiny-yolov2-trial3-noBatch.weights --names $lite/voc.names --calib $data/images"
  "yolo-fastest-1.1-coco/truenorth|--arch truenorth --grow-board"
)
{
  echo "# $0 $* (commit $(git rev-parse --short HEAD), $(date -u +%F))"
  printf "%-32s %-8s %6s %5s %14s %14s %10s %9s %s\n" run placement cores chips chip_crossings packet_hops frame_s energy_j spikes
  for r in "${runs[@]}"; do
    name=${r%%|*}; flags=${r#*|}
    for how in order traffic; do
      # shellcheck disable=SC2086
      "$bin" detect --json --placement "$how" $flags > "$bin.$how.json"
      python3 - "$bin.$how.json" "$name" "$how" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))
print("%-32s %-8s %6d %5d %14d %14d %10.5f %9.4f %d" % (sys.argv[2], sys.argv[3], a["cores"], a["chips"],
      a.get("chip_crossings", 0), a["hops"], a["latency"]["frame_s"], a["energy"]["total_j"], a["spikes"]))
PY
    done
    python3 - "$bin.order.json" "$bin.traffic.json" "$name" <<'PY'
import json, sys
o, t = (json.load(open(f)) for f in sys.argv[1:3])
same = o["detections"] == t["detections"] and [l["spikes"] for l in o["layers"]] == [l["spikes"] for l in t["layers"]]
less = lambda k: 1 - t[k] / o[k] if o[k] else 0.0
print("%-32s traffic vs order: chip crossings %.1f %% fewer, packet-hops %.1f %% fewer, frame latency %.1f %% lower, energy %.1f %% lower; spikes and detections %s" % (
    sys.argv[3], 100 * less("chip_crossings"), 100 * less("hops"),
    100 * (1 - t["latency"]["frame_s"] / o["latency"]["frame_s"]), 100 * (1 - t["energy"]["total_j"] / o["energy"]["total_j"]),
    "identical" if same else "DIFFER"))
PY
  done
} | tee "$out"
