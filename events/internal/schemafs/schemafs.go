// Package schemafs reads the JSON Schemas a domain package embeds.
package schemafs

import "io/fs"

// Read returns schemas/<name>.json from fsys. The files are embedded at
// build time, so a missing one is a programming error in the package that
// names it, caught by its tests: Read panics rather than returning nil.
func Read(fsys fs.FS, name string) []byte {
	b, err := fs.ReadFile(fsys, "schemas/"+name+".json")
	if err != nil {
		panic("events: missing embedded schema " + name)
	}
	return b
}
