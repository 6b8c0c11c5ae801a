package main

import (
	"sort"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/loyaltybus/loyaltybus/pkg/bus"
	"github.com/loyaltybus/loyaltybus/services/cheques"
	"github.com/loyaltybus/loyaltybus/services/coupons"
	"github.com/loyaltybus/loyaltybus/services/feeds"
	"github.com/loyaltybus/loyaltybus/services/orders"
	"github.com/loyaltybus/loyaltybus/services/points"
	"github.com/loyaltybus/loyaltybus/services/schedule"
)

// componentSpec is one deployable service: its name (the durable consumer)
// and how to build its routes from the vendor clients.
type componentSpec struct {
	name   string
	about  string
	routes func(v *vendors) ([]bus.Route, error)
	// run, set instead of routes, builds a component that is not a command
	// service (the scheduler); serve runs it beside the services.
	run func(js jetstream.JetStream, v *vendors) (runner, error)
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
		{name: cheques.Name, about: "cheques.fetch: parked cheques of SmartX cash registers", routes: func(v *vendors) ([]bus.Route, error) {
			clients, err := v.smartx()
			if err != nil {
				return nil, err
			}
			regs := make(map[string]cheques.Register, len(clients))
			for name, c := range clients {
				regs[name] = c
			}
			svc, err := cheques.New(regs)
			if err != nil {
				return nil, err
			}
			return svc.Routes(), nil
		}},
		{name: feeds.Name, about: "tickets.fetch (Pospal ticket history) and points.usage.fetch (Wixtar)", routes: func(v *vendors) ([]bus.Route, error) {
			p, err := v.pospal()
			if err != nil {
				return nil, err
			}
			w, err := v.wixtar()
			if err != nil {
				return nil, err
			}
			svc, err := feeds.New(p, v.pospalAppID(), w)
			if err != nil {
				return nil, err
			}
			return svc.Routes(), nil
		}},
		{name: schedule.Name, about: "publishes fetch commands at the LOYALTY_SCHEDULE_* intervals (off by default)", run: newScheduler},
		{name: coupons.Name, about: "coupon grant, redeem, freeze, thaw, writeoff, reverse, invalidate, reinstate (Shuyun; Pospal grant and redeem)", routes: func(v *vendors) ([]bus.Route, error) {
			sy, err := v.shuyun()
			if err != nil {
				return nil, err
			}
			ps, err := v.pospal()
			if err != nil {
				return nil, err
			}
			return coupons.New(sy, ps, v.log).Routes(), nil
		}},
		{name: orders.Name, about: "order save (Shuyun)", routes: func(v *vendors) ([]bus.Route, error) {
			c, err := v.shuyun()
			if err != nil {
				return nil, err
			}
			return orders.New(c).Routes(), nil
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
				return nil, usageError("unknown service %q (services: %s)", part, serviceNames())
			}
			out = append(out, c)
		}
	}
	return out, nil
}
