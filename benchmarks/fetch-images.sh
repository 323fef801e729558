#!/usr/bin/env bash
# Fetches the evaluation images that benchmarks/RESULTS.md measures fidelity on: natural
# photographs from three Debian packages (scikit-image's sample data, OpenCV's sample data,
# matplotlib's sample data), none of them darknet's sample images, which calibrate. They are
# measurement data only and are not part of the project.
#
# Usage: benchmarks/fetch-images.sh DIR
set -euo pipefail
dest=${1:?usage: $0 DIR}
mkdir -p "$dest"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
apt-get download python3-skimage opencv-doc python-matplotlib-data >/dev/null
for deb in *.deb; do dpkg -x "$deb" x; done
skimage=x/usr/lib/python3/dist-packages/skimage/data
opencv=x/usr/share/doc/opencv-doc/examples/data
for f in $skimage/{astronaut,chelsea,coffee,motorcycle_left,camera}.png $skimage/rocket.jpg \
         $opencv/{aero1,aero3,apple,baboon,building,butterfly,fruits,home,leuvenA,leuvenB,licenseplate_motion,messi5,orange,starry_night}.jpg \
         $opencv/{basketball1,pic2}.png \
         x/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg; do
  cp "$f" "$dest/"
done
ls "$dest" | wc -l
