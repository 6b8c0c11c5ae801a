package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/loyaltybus/loyaltybus/pkg/bus"
	"github.com/loyaltybus/loyaltybus/services/schedule"
)

// runner is a component that is not a command service (the scheduler): serve
// runs it beside the services and stops it with them.
type runner interface {
	Run(ctx context.Context) error
	Ready() <-chan struct{}
}

// newScheduler builds the scheduler from LOYALTY_SCHEDULE_*. Every interval
// defaults to 0 (off); with none set the scheduler idles.
func newScheduler(js jetstream.JetStream, v *vendors) (runner, error) {
	s := v.s
	sc := s.Schedule
	var list []schedule.Schedule
	if sc.Cheques > 0 {
		names, err := registerNames(s)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			list = append(list, schedule.Cheques(n, sc.Cheques))
		}
	}
	if sc.Tickets > 0 {
		if len(sc.TicketsCustomers) == 0 {
			return nil, fmt.Errorf("LOYALTY_SCHEDULE_TICKETS is set but LOYALTY_SCHEDULE_TICKETS_CUSTOMERS lists no customer uid")
		}
		for _, c := range sc.TicketsCustomers {
			uid, err := strconv.ParseInt(c, 10, 64)
			if err != nil || uid <= 0 {
				return nil, fmt.Errorf("LOYALTY_SCHEDULE_TICKETS_CUSTOMERS: %q is not a customer uid", c)
			}
			list = append(list, schedule.Tickets(uid, sc.TicketsAllStores, sc.Tickets, sc.Overlap))
		}
	} else if len(sc.TicketsCustomers) > 0 {
		v.log.Warn("LOYALTY_SCHEDULE_TICKETS_CUSTOMERS is set but LOYALTY_SCHEDULE_TICKETS is not: no tickets schedule")
	}
	if sc.Usage > 0 {
		list = append(list, schedule.Usage(sc.UsageStoreID, sc.Usage, sc.Overlap))
	}
	mode, err := bus.ParseMode(s.OutputMode)
	if err != nil {
		return nil, fmt.Errorf("LOYALTY_OUTPUT_MODE: %w", err)
	}
	sched, err := schedule.New(js, schedule.Config{
		Schedules: list, MaxCatchUp: sc.MaxCatchUp, Mode: mode,
		Replicas: s.StreamReplicas, SkipProvision: !s.Provision, Logger: v.log,
	})
	if err != nil {
		return nil, fmt.Errorf("LOYALTY_SCHEDULE_*: %w", err)
	}
	return sched, nil
}
