// Package golden checks the contract's example payloads against the files
// in a package's testdata directory: a difference is a contract change.
// Run a package's tests with -update to rewrite the files.
package golden

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// Check marshals each example (indented JSON) and compares it with
// testdata/<name>.json.
func Check(t *testing.T, examples map[string]any) {
	t.Helper()
	for name, v := range examples {
		t.Run(name, func(t *testing.T) {
			got, err := json.MarshalIndent(v, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", name+".json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden file (run with -update to create): %v", err)
			}
			if !bytes.Equal(want, got) {
				t.Errorf("%s changed; this is a contract change (run with -update if intended)\nwant:\n%s\ngot:\n%s", path, want, got)
			}
		})
	}
}

// Updating reports whether the test run rewrites golden files.
func Updating() bool { return *update }
