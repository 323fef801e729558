package benchmarks

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestClusterExamples: the Kubernetes Indexed Job runs as many shards as it has completions,
// each pod its own index; the Slurm array script runs the task's shard of the array's count
// into its own directory.
func TestClusterExamples(t *testing.T) {
	b, err := os.ReadFile("cluster/sweep-job.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var job struct {
		Kind string
		Spec struct {
			CompletionMode string `yaml:"completionMode"`
			Completions    int
			Parallelism    int
			Template       struct {
				Spec struct {
					Containers []struct {
						Env  []struct{ Name, Value string }
						Args []string
					}
				}
			}
		}
	}
	if err := yaml.Unmarshal(b, &job); err != nil {
		t.Fatalf("sweep-job.yaml: %v", err)
	}
	c := job.Spec.Template.Spec.Containers
	if job.Kind != "Job" || job.Spec.CompletionMode != "Indexed" || len(c) != 1 || len(c[0].Args) != 1 || len(c[0].Env) != 1 {
		t.Fatalf("sweep-job.yaml: not an Indexed Job with one container: %+v", job)
	}
	if shards := c[0].Env[0]; shards.Name != "SHARDS" || shards.Value != strconv.Itoa(job.Spec.Completions) || job.Spec.Parallelism != job.Spec.Completions {
		t.Errorf("sweep-job.yaml: SHARDS=%s, %d completions, parallelism %d: want them equal", shards.Value, job.Spec.Completions, job.Spec.Parallelism)
	}
	if args := c[0].Args[0]; !strings.Contains(args, `--shard "$JOB_COMPLETION_INDEX/$SHARDS"`) || !strings.Contains(args, "shard-$JOB_COMPLETION_INDEX") {
		t.Errorf("sweep-job.yaml: the pod does not run its own shard into its own directory: %s", args)
	}

	// The Slurm script, with a stand-in for spikeyolo that prints its arguments.
	dir := t.TempDir()
	fake := filepath.Join(dir, "spikeyolo")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	script, err := filepath.Abs("cluster/sweep.slurm")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SLURM_ARRAY_TASK_ID=2", "SLURM_ARRAY_TASK_COUNT=4", "SPIKEYOLO="+fake, "IMAGES=a.jpg b.jpg")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sweep.slurm: %v\n%s", err, out)
	}
	if got := string(out); !strings.HasPrefix(got, "sweep ") || !strings.Contains(got, "--shard 2/4 --out results/shard-2 a.jpg b.jpg") {
		t.Errorf("sweep.slurm ran: %s", got)
	}
}
