package chaos

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteTable prints the rows as the checker's table, then the details and
// notes of each row.
func WriteTable(w io.Writer, rows []Row) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "case\tcommands\tlost\tduplicate results\tdouble effects\tunexpected\torder violations\twall time\tverdict")
	var total time.Duration
	for _, r := range rows {
		verdict := "ok"
		if !r.OK() {
			verdict = "FAIL"
		}
		total += r.Wall
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\n", r.Case, r.Commands, r.Lost, r.DuplicateResults,
			r.DoubleEffects, r.Unexpected, r.OrderViolations, r.Wall.Round(100*time.Millisecond), verdict)
	}
	fmt.Fprintf(tw, "total\t\t\t\t\t\t\t%s\t\n", total.Round(100*time.Millisecond))
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range rows {
		if len(r.Details) == 0 && len(r.Notes) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s\n", r.Case)
		for _, n := range r.Notes {
			fmt.Fprintf(w, "  note: %s\n", n)
		}
		for _, d := range r.Details {
			fmt.Fprintf(w, "  %s\n", strings.TrimSpace(d))
		}
	}
	return nil
}
