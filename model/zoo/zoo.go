// Package zoo holds what ships inside the spikeyolo binary: the default detector, Yolo-Fastest
// 1.1 trained on COCO (public domain, see SOURCES.txt), and darknet's sample image dog.jpg.
package zoo

import (
	"bytes"
	_ "embed"

	"spikeyolo/model"
	"spikeyolo/model/darknet"
	"spikeyolo/model/detect"
)

var (
	//go:embed yolo-fastest-1.1/yolo-fastest-1.1.cfg
	defaultCfg []byte
	//go:embed yolo-fastest-1.1/yolo-fastest-1.1.weights
	defaultWeights []byte
	//go:embed yolo-fastest-1.1/coco.names
	defaultNames []byte
	//go:embed dog.jpg
	dogJPEG []byte
)

// DefaultName names the default detector in messages and reports.
const DefaultName = "yolo-fastest-1.1 (embedded)"

// Default returns a fresh copy of the default detector and its class names.
func Default() (*model.Network, []string) {
	net, err := darknet.ParseConfig(bytes.NewReader(defaultCfg), "yolo-fastest-1.1.cfg")
	if err == nil {
		err = darknet.LoadWeights(net, defaultWeights, "yolo-fastest-1.1.weights")
	}
	if err != nil {
		panic("zoo: the embedded model does not load: " + err.Error())
	}
	names, err := detect.ParseNames(bytes.NewReader(defaultNames), "coco.names")
	if err != nil {
		panic("zoo: the embedded class names do not load: " + err.Error())
	}
	return net, names
}

// DogJPEG returns the bytes of darknet's dog.jpg (768×576: a dog, a bicycle and a car).
func DogJPEG() []byte { return bytes.Clone(dogJPEG) }

//go:embed yolo-fastest-1.1/calibration.json
var defaultCalibration []byte

// DefaultCalibration returns the default detector's calibration (mapper's JSON format): its
// activation statistics at percentile 99.9 and mean magnitudes (from which mapping expects
// the spiking network's activity) over darknet's seven sample images, made with
// "spikeyolo convert --calib ../shared/data/images --save-calib FILE".
func DefaultCalibration() []byte { return bytes.Clone(defaultCalibration) }
