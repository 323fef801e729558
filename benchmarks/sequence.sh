#!/usr/bin/env bash
# Measures sigma-delta coding over a video (benchmarks/RESULTS.md, "Frame sequences"): a window
# panning across a photograph of benchmarks/fetch-images.sh by STEP pixels per frame, 30
# frames, detected by the embedded Yolo-Fastest on loihi2 at 95 ticks (its depth, 79, plus 16)
# with --sequence (the network keeps its state, each frame sends only what changed) and
# without (each frame coded afresh). Delta 1 resumed ends exactly where a fresh run ends, so
# its fidelity is the graded coding's own on each frame. Prints, per (step, delta), the
# messages of the first frame, the mean of the others, the ratio of a fresh frame's messages
# to them, and the lowest and mean per-frame fidelity against the float network.
#
# Usage: benchmarks/sequence.sh EVAL_IMAGES_DIR [STEP...]
# Environment: PHOTO (default motorcycle_left.png), WIDTH (window width, default 625),
# DELTAS (default "1 8 12 16").
set -euo pipefail
images=${1:?usage: $0 EVAL_IMAGES_DIR [STEP...]}
shift
steps=${*:-1 2 4}
photo=${PHOTO:-motorcycle_left.png}
width=${WIDTH:-625}
deltas=${DELTAS:-1 8 12 16}
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/spikeyolo" ./cmd/spikeyolo
echo "$photo, window $width pixels wide"
printf '%5s %6s %12s %14s %13s %13s %13s\n' step delta first_frame mean_after fresh/after min_fidelity mean_fidelity
for step in $steps; do
  go run ./benchmarks/pan -src "$images/$photo" -out "$tmp/frames-$step" -step "$step" -width "$width"
  flags="--coding sigma-delta --arch loihi2 --timesteps 95 --json"
  "$tmp/spikeyolo" detect $flags "$tmp/frames-$step" > "$tmp/afresh.jsonl"
  for delta in $deltas; do
    "$tmp/spikeyolo" detect $flags --delta "$delta" --sequence "$tmp/frames-$step" > "$tmp/seq.jsonl"
    python3 - "$step" "$delta" "$tmp/seq.jsonl" "$tmp/afresh.jsonl" <<'PY'
import json, sys
step, delta, seq, afresh = sys.argv[1:]
s = [json.loads(l) for l in open(seq)]
a = [json.loads(l) for l in open(afresh)]
after = sum(r["messages"] for r in s[1:]) / (len(s) - 1)
fresh = sum(r["messages"] for r in a[1:]) / (len(a) - 1)
fid = [r["fidelity_map"] for r in s if r.get("fidelity_map") is not None]
print(f'{step:>5} {delta:>6} {s[0]["messages"]:>12} {after:>14.0f} {fresh/after:>13.2f} {min(fid):>13.4f} {sum(fid)/len(fid):>13.4f}')
PY
  done
done
