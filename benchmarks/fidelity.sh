#!/usr/bin/env bash
# Measures the fidelity of the converted networks (benchmarks/RESULTS.md, "Conversion"):
# each shared model, calibrated on darknet's seven sample images, evaluated on the images of
# benchmarks/fetch-images.sh, with the paper's settings, ours, and the paper's ablations.
# The paper-seen settings also calibrate on the evaluated images (@EVAL@), as the independent
# measurement of the paper's method that the issue quotes did.
# Each run writes benchmarks/results/<model>.<setting>.txt. It takes hours on two cores.
#
# Usage: benchmarks/fidelity.sh SHARED_DATA_DIR EVAL_IMAGES_DIR [SETTING...]
set -euo pipefail
data=${1:?usage: $0 SHARED_DATA_DIR EVAL_IMAGES_DIR [SETTING...]}
images=${2:?usage: $0 SHARED_DATA_DIR EVAL_IMAGES_DIR [SETTING...]}
shift 2
cd "$(dirname "$0")/.."
mkdir -p benchmarks/results
bin=$(mktemp -d)/spikeyolo
go build -o "$bin" ./cmd/spikeyolo

paper="--norm-stat positive --pool firmax --undo=false --max-spikes 1 --warmup 0"
long=32,64,128,256,512,1024,2048
# setting name, model, weight bits, checkpoints, flags
runs=(
  "ours        yolo-lite-voc          16 $long"
  "paper       yolo-lite-voc          16 $long $paper"
  "ours        yolo-fastest-1.1-coco  16 $long"
  "paper-layer yolo-lite-voc          16 64,128,256,512,1024 $paper --norm layer"
  "paper-if    yolo-lite-voc          16 64,128,256,512,1024 $paper --neuron if"
  "paper       yolo-fastest-1.1-coco  16 $long $paper"
  "ours-8bit   yolo-lite-voc          8  32,64,128,256,512"
  "ours        yolo-lite-voc-bn       16 $long"
  "paper       yolo-lite-voc-bn       16 $long $paper"
  "ours-8bit   yolo-fastest-1.1-coco  8  64,128,256,512"
  "paper-seen  yolo-fastest-1.1-coco  16 128,256,512 $paper --calib @EVAL@"
  "paper-seen  yolo-lite-voc          16 256,512,1024 $paper --calib @EVAL@"
  "ours-undo1  yolo-lite-voc          16 32,64,128,256,512 --undo-margin 1"
  "ours-undo1  yolo-fastest-1.1-coco  16 64,128,256 --undo-margin 1"
)
declare -A files=(
  [yolo-lite-voc]="yolo-lite-voc/tiny-yolov2-trial3-noBatch"
  [yolo-lite-voc-bn]="yolo-lite-voc-bn/tiny-yolov2-trial3"
  [yolo-fastest-1.1-coco]="yolo-fastest-1.1-coco/yolo-fastest-1.1"
)
for run in "${runs[@]}"; do
  read -r setting model bits ticks flags <<<"$run"
  flags=${flags//@EVAL@/$images}
  if [ $# -gt 0 ] && [[ ! " $* " =~ " $model.$setting " ]]; then continue; fi
  m=$data/models/${files[$model]}
  out=benchmarks/results/$model.$setting.txt
  echo "== $model $setting"
  { echo "\$ spikeyolo eval --model $m.cfg --weights $m.weights --calib $data/images --weight-bits $bits --timesteps $ticks $flags EVAL_IMAGES"
    /usr/bin/time -f "(%e s wall, %U s user)" "$bin" eval --model "$m.cfg" --weights "$m.weights" --calib "$data/images" \
      --weight-bits "$bits" --timesteps "$ticks" $flags "$images" 2>&1
  } >"$out.tmp"
  mv "$out.tmp" "$out"
  cat "$out"
done
