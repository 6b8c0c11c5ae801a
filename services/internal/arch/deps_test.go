package arch_test

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const mod = "github.com/loyaltybus/loyaltybus/"

// packages maps every workspace package to its imports (including test imports).
func packages(t *testing.T) map[string][]string {
	t.Helper()
	root := workspaceRoot(t)
	cmd := exec.Command("go", "list", "-test=false", "-f", `{{.ImportPath}}|{{join .Imports ","}}|{{join .TestImports ","}}|{{join .XTestImports ","}}`, "work")
	cmd.Dir = root
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	pkgs := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		parts := strings.Split(sc.Text(), "|")
		var imports []string
		for _, p := range parts[1:] {
			if p != "" {
				imports = append(imports, strings.Split(p, ",")...)
			}
		}
		pkgs[parts[0]] = imports
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	return pkgs
}

func workspaceRoot(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.work above the test")
		}
		dir = parent
	}
}

// area is the top-level part of the repository a package belongs to.
func area(pkg string) (top, second string) {
	rest := strings.TrimPrefix(pkg, mod)
	parts := strings.SplitN(rest, "/", 3)
	top = parts[0]
	if len(parts) > 1 {
		second = parts[1]
	}
	return top, second
}

func isStdlib(imp string) bool {
	first := strings.SplitN(imp, "/", 2)[0]
	return !strings.Contains(first, ".")
}

func TestImportRules(t *testing.T) {
	for pkg, imports := range packages(t) {
		top, second := area(pkg)
		for _, imp := range imports {
			ours := strings.HasPrefix(imp, mod)
			itop, isecond := area(imp)
			switch top {
			case "events":
				if !isStdlib(imp) && !(ours && itop == "events") {
					t.Errorf("%s imports %s: the contract uses the standard library only", pkg, imp)
				}
			case "pkg":
				if ours && itop != "pkg" {
					t.Errorf("%s imports %s: the runtime imports neither the contract, adapters nor services", pkg, imp)
				}
				if strings.HasPrefix(imp, "github.com/nats-io/nats-server/") && second != "natsembed" && second != "deploytest" {
					t.Errorf("%s imports nats-server: only pkg/natsembed embeds the server", pkg)
				}
				if strings.HasPrefix(imp, "github.com/lmittmann/tint") && second != "logging" {
					t.Errorf("%s imports tint: only pkg/logging does", pkg)
				}
			case "adapters":
				// adapters/internal holds what the simulators share (no
				// vendor's code), so vendors still never import each other.
				if ours && (itop != "adapters" || isecond != second && isecond != "internal") {
					t.Errorf("%s imports %s: an adapter imports only its own vendor's packages and adapters/internal", pkg, imp)
				}
			case "services":
				// The binary and the tools under internal (bench, chaos)
				// assemble domains; a domain imports only itself and internal.
				wiring := second == "loyaltybus" || second == "internal"
				if ours && itop == "services" && !wiring && isecond != "internal" && isecond != second {
					t.Errorf("%s imports %s: service domains never import each other", pkg, imp)
				}
			}
		}
	}
}
