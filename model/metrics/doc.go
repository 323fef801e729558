// Package metrics computes object-detection metrics (IoU, PASCAL VOC average
// precision, mean AP and COCO-style mAP@[.50:.95]) and reads ground-truth
// labels in PASCAL VOC XML and darknet/YOLO text formats, for tools that
// compare the outputs of detectors.
//
// Conventions:
//
//   - Boxes are in pixels, as float64, with the origin at the top-left corner
//     of the image. Coordinates are continuous: a Box covers
//     [Left, Right] × [Top, Bottom] and its area is (Right-Left)*(Bottom-Top),
//     with no "+1 pixel" term (the VOC devkit adds one; COCO does not).
//   - Classes are 0-based integer indices.
//   - Scores are detector confidences, normally in [0, 1]; only their order
//     matters.
//   - Predictions are matched to ground truth by image key (the Image field)
//     and class. The readers use as image key a file's base name without its
//     extension, so that the VOC and YOLO labels of one data set agree.
//   - Average precision is a number in [0, 1].
package metrics
