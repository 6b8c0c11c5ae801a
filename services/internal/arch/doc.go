// Package arch holds the test that enforces the repository's import rules
// (see the module READMEs): the contract imports nothing, the runtime never
// imports the contract, adapters or services, adapters import nothing of
// ours, and service domains never import each other.
package arch
