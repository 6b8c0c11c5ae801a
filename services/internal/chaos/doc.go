// Package chaos is loyaltybus's fault and chaos harness. It runs the real
// binary as subprocesses (services and the Shuyun simulator, through
// "loyaltybus run points" and "loyaltybus simulate shuyun"), real
// nats-server processes built from the module graph (one node, or a
// three-node JetStream cluster on 127.0.0.1), publishes commands, breaks
// things (SIGKILL, SIGSTOP, broker restarts, vendor faults, quorum loss) and
// then judges what happened with a checker in the Jepsen vocabulary:
//
//   - lost: a command published (acknowledged by the commands stream) that
//     has no result once the service is idle;
//   - duplicate results: a command with more than one distinct result event
//     id in LOYALTY_RESULTS (the same id stored twice is one result);
//   - double effects: an (operation, token) the vendor simulator applied
//     more than once, read from its effect ledger;
//   - unexpected: anything else that must not happen (a result for an id
//     never published, a status other than expected, an effect nobody asked
//     for, a missing conflict copy, a result stored while the cluster had no
//     quorum, a vendor request rate above the limiter, a second vendor call
//     of one token while the first is in flight);
//   - order violations: a vendor effect applied before an effect of the same
//     member that was published earlier.
//
// The checker reads only what is observable from outside the service: the
// streams (an independent ordered consumer) and the simulator's ledger and
// call log (its /_sim/ endpoints). Every wait is bounded polling on state;
// sleeps only hold a fault for its duration. Everything listens on the
// loopback interface.
//
// The fast subset (cases 1, 2, 3, 5 and 6 with few commands) runs in go
// test; scripts/chaos runs the whole suite (cmd/chaos) and prints the table.
package chaos
