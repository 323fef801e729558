#!/usr/bin/env python3
"""Mutation check: plants each deliberate bug below, one at a time, in a scratch copy of the
working tree, runs the packages that should notice, and prints CAUGHT or MISSED. Every line
must say CAUGHT. Not run by CI (it takes a few minutes); run it after changing the energy,
latency, routing, conversion or detection code, and add a mutation for each new term.

    python3 .ci/mutants.py            # all
    python3 .ci/mutants.py NMS hop    # those whose name contains a word
"""
import os, subprocess, sys, tempfile

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
R = os.path.join(tempfile.mkdtemp(prefix="spikeyolo-mutants-"), "w")
subprocess.run(["cp", "-r", SRC, R], check=True)
muts = [
 ("hop prices swapped", "chip/report.go", "* e.HopEastWest\n\t\tparts[HopsNorthSouth] = float64(sent.Hops[router.North]+sent.Hops[router.South]) * e.HopNorthSouth\n", "* e.HopNorthSouth\n\t\tparts[HopsNorthSouth] = float64(sent.Hops[router.North]+sent.Hops[router.South]) * e.HopEastWest\n", ["./chip"]),
 ("chip crossings at 0", "chip/report.go", "float64(sent.Crossings) * e.ChipCrossing", "float64(sent.Crossings) * 0", ["./chip"]),
 ("chips forced to 1", "chip/report.go", "r.Chips = p.Chips()", "r.Chips = 1", ["./chip"]),
 ("routing YX always", "chip/engine.go", "router.NewNetwork(p.Topology, p.Slots, p.Routing,", "router.NewNetwork(p.Topology, p.Slots, router.YX,", ["./chip"]),
 ("NextFire one tick early", "core/neuron.go", "return t + int(best), true", "if best > 1 { best-- }; return t + int(best), true", ["./chip", "./core"]),
 ("undo margin dropped", "mapper/convert.go", "BackPos: fractionOf(cv.Options.UndoMargin, t), BackNeg: fractionOf(cv.Options.UndoMargin, neg)}", "}", ["-run", "TestConversionOptions", "./mapper"]),
 ("NMS IoU reversed", "model/detect/detect.go", "if IoU(dets[i].Box, dets[j].Box) > thresh {", "if IoU(dets[i].Box, dets[j].Box) < thresh {", ["./model/..."]),
 ("NMS > into >=", "model/detect/detect.go", "if IoU(dets[i].Box, dets[j].Box) > thresh {", "if IoU(dets[i].Box, dets[j].Box) >= thresh {", ["./model/..."]),
    # More in the energy, latency and routing code.
 ("static over compute time", "chip/report.go", "float64(r.Chips) * res.Time.Frame", "float64(r.Chips) * res.Time.Compute", ["./chip"]),
 ("inactive = size*ticks", "chip/report.go", "inactive := size*int64(res.Ticks) - c.Updates", "inactive := size*int64(res.Ticks)", ["./chip"]),
 ("contention min", "chip/report.go", "max(lat.HopEastWest, lat.HopNorthSouth)", "min(lat.HopEastWest, lat.HopNorthSouth)", ["./chip"]),
 ("tick_min ignored in busy ticks", "chip/report.go", "c.Frame += max(slowest+network+lat.Barrier, c.p.Arch.TickMin)", "c.Frame += slowest+network+lat.Barrier", ["./chip"]),
 ("hop latency EW/NS swapped", "chip/engine.go", "router.Latency{EastWest: lat.HopEastWest, NorthSouth: lat.HopNorthSouth,", "router.Latency{EastWest: lat.HopNorthSouth, NorthSouth: lat.HopEastWest,", ["./chip"]),
 ("idle time of smallest core", "chip/report.go", "most = max(most, c.Box.Size())", "most = min(most+1<<30, c.Box.Size())", ["./chip"]),
 ("barrier dropped in empty ticks", "chip/report.go", "c.Frame += n * max(lat.Barrier+c.idle, c.p.Arch.TickMin)", "c.Frame += n * max(c.idle, c.p.Arch.TickMin)", ["./chip"]),
 ("tree uses nearest line end", "router/router.go", "near, far := second(b.far[i]), second(b.far[j-1])", "near, far := second(b.far[i]), second(b.far[i])", ["./router", "./chip"]),
 ("EW crossings by TilesY", "router/router.go", "r.Unit.Crossings += int64(abs(x/n.topo.TilesX - a.X/n.topo.TilesX))", "r.Unit.Crossings += int64(abs(x/n.topo.TilesY - a.X/n.topo.TilesY))", ["./router", "./chip"]),
 ("engine ignores placement", "chip/engine.go", "router.NewNetwork(p.Topology, p.Slots,", "router.NewNetwork(p.Topology, nil,", ["./chip"]),
 ("messages priced per delivery", "chip/report.go", "float64(sent.Sent) * (e.Message", "float64(sent.Delivered) * (e.Message", ["./chip"]),
 ("spike_out priced per unit spike", "chip/report.go", "float64(c.Events) * e.SpikeOut", "float64(c.Spikes) * e.SpikeOut", ["./chip"]),
 ("within-tile priced at hop EW", "chip/report.go", "float64(sent.WithinTile) * e.WithinTile", "float64(sent.WithinTile) * e.HopEastWest", ["./chip"]),
    # The engine's spans and classes.
 ("a span forgets the tick before it", "chip/engine.go", "if s < 0 || s >= o.slots {\n\t\to.spikes, o.bounds", "if true {\n\t\to.spikes, o.bounds", ["./chip"]),
 ("a class's packets routed once", "chip/engine.go", "pr.mesh.Shard(0).SendRoute(r, int64(s.N))", "pr.mesh.Shard(0).SendRoute(r, 1)", ["./chip"]),
 ("a trace priced without its slowest pipelines", "chip/engine.go", "slowest = max(slowest, pr.clock.core(c, work[c]))", "slowest = max(slowest, 0)", ["-run", "Reprice", "./chip"]),
 ("a coarser core's packets summed over its parts", "chip/engine.go", "Events: w.Events}\n", "Events: w.Events, Packets: w.Packets}\n", ["-run", "Reprice", "./chip"]),
 ("a coarser core's packets not counted", "chip/engine.go", "work[c].Packets += arriving[c]", "work[c].Packets += 0", ["-run", "Reprice", "./chip"]),
 ("a core stepping without work makes the tick busy", "chip/engine.go", "d := grown(before, c.Counters); d != (core.Counters{})", "d := grown(before, c.Counters); true", ["./chip"]),
 ("a refinement misses one partition's cuts", "chip/program.go", "return slices.ContainsFunc(ps, func", "return slices.ContainsFunc(ps[:1], func", ["-run", "Reprice", "./chip"]),
 ("a dense sweep skips the drive (Go form)", "core/sweep.go", "v[i] += drive[i]", "v[i] += 0", ["./core"]),
 ("a dense sweep skips the drive (AVX2 form)", "core/vector_amd64.s", "VPADDQ  (DX)(AX*8), Y0, Y0", "VPADDQ  Y13, Y0, Y0", ["./chip", "./core"]),
    # Codings and the engine's fast paths.
 ("sigma-delta thresholds its first message", "core/neuron.go", "if n == 0 || *s != 0 && abs(n) < th.Delta {", "if n == 0 || abs(n) < th.Delta {", ["./core", "./chip"]),
 ("a negative spike's take-back ignores a spike up after it", "core/neuron.go", "if w := v + b.lo; !(s >= -1 && w >= b.hi) && !(s < -1 && w > b.backNeg) {", "if w := v + b.lo; !(s < -1 && w > b.backNeg) {", ["./core"]),
 ("a positive spike's take-back ignores another after it", "core/neuron.go", "if w := v + b.hi; !(s > 1 && w < b.backPos) && !(s == 1 && w <= b.lo) {", "if w := v + b.hi; !(s == 1 && w <= b.lo) {", ["./core", "./chip"]),
 ("fast: one spike up to three thresholds", "core/neuron.go", "\t\tcase v < b.hi2:\n", "\t\tcase v < b.hi2+b.hi:\n", ["./core", "./chip"]),
 ("the sweep fires one spike up to three thresholds (Go form)", "core/sweep.go", "bit(vi < b[16])", "bit(vi < b[16]+hi)", ["./core"]),
 ("the sweep fires one spike up to three thresholds (AVX2 form)", "core/vector_amd64.s", "VMOVDQU  128(BX)(R11*1), Y6", "VMOVDQU  128(BX)(R11*1), Y6\n\tVPADDQ   Y10, Y6, Y6", ["./chip", "./core"]),
 ("depthwise deliveries count one op a packet", "core/core.go", "ops += abs(n) * int64(len(taps))", "ops += abs(n)", ["./chip"]),
 ("depthwise taps ignore the stride", "core/boxtaps.go", "d >= 0 && d%s.Stride == 0 && d/s.Stride < n", "d >= 0 && d/s.Stride < n", ["./core"]),
 ("a pointwise row misses its channel offset", "core/core.go", "start := sc.row*kn.outPer + lo - sc.f0", "start := sc.row*kn.outPer", ["./core"]),
 ("weight rows multiplied unsigned (AVX2)", "core/vector_amd64.s", "VPMULDQ   Y0, Y1, Y1", "VPMULUDQ   Y0, Y1, Y1", ["./core"]),
    # Folding linear convolutions into their readers.
 ("folded biases dropped", "mapper/layers.go", "w[c], bias[c] = append(w[c], rows[c]...), bias[c]+bs[c]", "w[c], bias[c] = append(w[c], rows[c]...), bias[c]+0*bs[c]", ["-run", "Fold", "./mapper"]),
 ("axons counted from a core's first class", "chip/program.go", "for _, d := range classes[id].dst {", "for _, d := range classes[0].dst {", ["./chip"]),
 ("weight shift dropped", "mapper/convert.go", "q[f][k] = int32(r * unit)", "q[f][k] = int32(r)", ["-run", "Fold", "./mapper"]),
 ("the first part taken as the widest", "mapper/convert.go", "\t\tif n > widths[wide] {\n\t\t\twide = p\n\t\t}", "\t\t_, _ = n, p", ["-run", "Fold", "./mapper"]),
 ("grouped convolution composed", "mapper/convert.go", "isOutput[r[0]] && c.Groups == 1 &&", "isOutput[r[0]] &&", ["-run", "Fold", "./mapper"]),
]
only = sys.argv[1:]
missed = 0
for name, f, old, new, args in muts:
    if only and not any(w.lower() in name.lower() for w in only):
        continue
    p = os.path.join(R, f)
    s = open(p).read()
    if s.count(old) != 1:
        sys.exit(f"mutation {name!r}: {f} holds its original text {s.count(old)} times, want once: update .ci/mutants.py")
    s2 = s.replace(old, new)
    assert s2 != s, name
    open(p, 'w').write(s2)
    envs = [dict(os.environ)]
    if "NMS" in name:
        e2 = dict(os.environ); e2["SPIKEYOLO_DATA"] = "/nonexistent"; envs.append(e2)
    for env in envs:
        r = subprocess.run(["go", "test", "-count=1", "-short"] + args, cwd=R, env=env, capture_output=True, text=True)
        fails = sorted(set(l.split()[2] for l in r.stdout.splitlines() if l.startswith("--- FAIL")))
        tag = " (no data)" if env.get("SPIKEYOLO_DATA") == "/nonexistent" else ""
        print(f"{name}{tag}: {'CAUGHT' if r.returncode else 'MISSED'} {fails[:6]}", flush=True)
        missed += r.returncode == 0
    open(p, 'w').write(s)
subprocess.run(["rm", "-rf", os.path.dirname(R)])
sys.exit(1 if missed else 0)
