package benchmarks

import (
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"

	"spikeyolo/model"
	"spikeyolo/model/darknet"
	"spikeyolo/model/darknetref"
	"spikeyolo/model/preprocess"
)

// floatModels loads the two architectures of the shared data: YOLO-LITE (Tiny-YOLOv2
// family) and Yolo-Fastest 1.1, with darknet's dog.jpg input fitted to each.
func floatModels(b *testing.B) []struct {
	name  string
	net   *model.Network
	input []float32
} {
	dir := darknetref.Dir(b)
	im, err := preprocess.Load(dir + "/images/dog.jpg")
	if err != nil {
		b.Fatal(err)
	}
	var out []struct {
		name  string
		net   *model.Network
		input []float32
	}
	for _, m := range darknetref.Models(dir) {
		if m.Name == "yolo-lite-voc-bn" {
			continue // same architecture as yolo-lite-voc
		}
		net, err := darknet.Load(m.Cfg, m.Weights)
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, struct {
			name  string
			net   *model.Network
			input []float32
		}{m.Name, net, im.Resize(net.Input.W, net.Input.H).Data})
	}
	return out
}

func totalMACs(net *model.Network) int64 {
	var macs int64
	for i := range net.Layers {
		macs += net.MACs(i)
	}
	return macs
}

// BenchmarkFloatInference times one whole float32 forward pass (all layers and heads),
// reporting GFLOP/s = 2·MACs / time and milliseconds per frame.
func BenchmarkFloatInference(b *testing.B) {
	for _, m := range floatModels(b) {
		b.Run(m.name, func(b *testing.B) {
			r := model.NewRunner(m.net)
			for b.Loop() {
				r.Run(m.input)
			}
			perFrame := b.Elapsed().Seconds() / float64(b.N)
			b.ReportMetric(2*float64(totalMACs(m.net))/perFrame/1e9, "GFLOP/s")
			b.ReportMetric(perFrame*1e3, "ms/frame")
		})
	}
}

// BenchmarkSgemmSameShapes runs gonum's blas32 Sgemm on the matrix products a network's
// convolutions amount to (per group: filters × (channels·k²) times (channels·k²) × pixels),
// without im2col or anything else: the ceiling the float inference is compared with.
func BenchmarkSgemmSameShapes(b *testing.B) {
	for _, m := range floatModels(b) {
		type gemm struct{ m, k, n, times int }
		var shapes []gemm
		for i, l := range m.net.Layers {
			c, ok := l.Op.(*model.Conv)
			if !ok {
				continue
			}
			in := m.net.InShape(i)
			shapes = append(shapes, gemm{c.Filters / c.Groups, in.C / c.Groups * c.Size * c.Size, l.Out.H * l.Out.W, c.Groups})
		}
		b.Run(m.name, func(b *testing.B) {
			type operands struct{ a, b, c []float32 }
			ops := make([]operands, len(shapes))
			for i, s := range shapes {
				ops[i] = operands{make([]float32, s.m*s.k), make([]float32, s.k*s.n), make([]float32, s.m*s.n)}
				for j := range ops[i].a {
					ops[i].a[j] = float32(j%7) * 0.1
				}
				for j := range ops[i].b {
					ops[i].b[j] = float32(j%5) * 0.1
				}
			}
			for b.Loop() {
				for i, s := range shapes {
					for g := 0; g < s.times; g++ {
						blas32.Gemm(blas.NoTrans, blas.NoTrans, 1,
							blas32.General{Rows: s.m, Cols: s.k, Stride: s.k, Data: ops[i].a},
							blas32.General{Rows: s.k, Cols: s.n, Stride: s.n, Data: ops[i].b},
							0, blas32.General{Rows: s.m, Cols: s.n, Stride: s.n, Data: ops[i].c})
					}
				}
			}
			perFrame := b.Elapsed().Seconds() / float64(b.N)
			b.ReportMetric(2*float64(totalMACs(m.net))/perFrame/1e9, "GFLOP/s")
			b.ReportMetric(perFrame*1e3, "ms/frame")
		})
	}
}
