package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/loyaltybus/loyaltybus/pkg/bus"
	"github.com/loyaltybus/loyaltybus/services/points"
)

// componentSpec is one deployable service: its name (the durable consumer)
// and how to build its routes from the vendor clients.
type componentSpec struct {
	name   string
	about  string
	routes func(v *vendors) ([]bus.Route, error)
}

// components lists every service the binary can run. Adding a service is
// adding an entry here.
func components() []componentSpec {
	return []componentSpec{
		{name: points.Name, about: "points freeze, unfreeze, consume and adjust (Shuyun)", routes: func(v *vendors) ([]bus.Route, error) {
			c, err := v.shuyun()
			if err != nil {
				return nil, err
			}
			return points.New(c).Routes(), nil
		}},
	}
}

func component(name string) (componentSpec, bool) {
	for _, c := range components() {
		if c.name == name {
			return c, true
		}
	}
	return componentSpec{}, false
}

func serviceNames() string {
	var names []string
	for _, c := range components() {
		names = append(names, c.name)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// selectComponents resolves the service arguments (none: all).
func selectComponents(names []string) ([]componentSpec, error) {
	if len(names) == 0 {
		return components(), nil
	}
	var out []componentSpec
	for _, n := range names {
		for _, part := range strings.Split(n, ",") {
			c, ok := component(strings.TrimSpace(part))
			if !ok {
				return nil, fmt.Errorf("unknown service %q (services: %s)", part, serviceNames())
			}
			out = append(out, c)
		}
	}
	return out, nil
}
