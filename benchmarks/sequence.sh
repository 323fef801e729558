#!/usr/bin/env bash
# Measures sigma-delta coding over a video (benchmarks/RESULTS.md, "Frame sequences"): a window
# panning across a photograph of benchmarks/fetch-images.sh (motorcycle_left.png) by STEP
# pixels per frame, 30 frames, detected by the embedded Yolo-Fastest on loihi2 at 114 ticks
# (its depth plus 16) with --sequence (the network keeps its state, each frame sends only what
# changed) and without (each frame coded afresh), for each delta. Prints, per (step, delta),
# the messages of the first frame, the mean of the others, both ratios, and the lowest
# per-frame fidelity against the float network.
#
# Usage: benchmarks/sequence.sh EVAL_IMAGES_DIR [STEP...]
set -euo pipefail
images=${1:?usage: $0 EVAL_IMAGES_DIR [STEP...]}
shift
steps=${*:-1 2 4}
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/spikeyolo" ./cmd/spikeyolo
printf '%5s %6s %14s %16s %14s %16s %13s\n' step delta first_frame mean_after/frame first/after afresh/after min_fidelity
for step in $steps; do
  go run ./benchmarks/pan -src "$images/motorcycle_left.png" -out "$tmp/frames-$step" -step "$step" -width 625
  for delta in 1 8; do
    flags="--coding sigma-delta --delta $delta --arch loihi2 --timesteps 114 --json"
    "$tmp/spikeyolo" detect $flags --sequence "$tmp/frames-$step" > "$tmp/seq.jsonl"
    "$tmp/spikeyolo" detect $flags "$tmp/frames-$step" > "$tmp/afresh.jsonl"
    python3 - "$step" "$delta" "$tmp/seq.jsonl" "$tmp/afresh.jsonl" <<'PY'
import json, sys
step, delta, seq, afresh = sys.argv[1:]
s = [json.loads(l) for l in open(seq)]
a = [json.loads(l) for l in open(afresh)]
after = sum(r["messages"] for r in s[1:]) / (len(s) - 1)
fresh = sum(r["messages"] for r in a[1:]) / (len(a) - 1)
fid = min(r["fidelity_map"] for r in s if r.get("fidelity_map") is not None)
print(f'{step:>5} {delta:>6} {s[0]["messages"]:>14} {after:>16.0f} {s[0]["messages"]/after:>14.2f} {fresh/after:>16.2f} {fid:>13.4f}')
PY
  done
done
