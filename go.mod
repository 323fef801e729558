module spikeyolo

go 1.26

require (
	github.com/google/btree v1.1.3
	github.com/sourcegraph/conc v0.3.0
	github.com/spf13/pflag v1.1.0
	go.yaml.in/yaml/v3 v3.0.6
	gonum.org/v1/gonum v0.17.0
)
