package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/auth"
)

// auditUserAgentWidth is how much of a user agent the table shows; --json shows
// all of it.
const auditUserAgentWidth = 40

// audit prints the audit trail, oldest of the selected events first, so that
// the newest end up at the bottom of the terminal as in a log.
func (m *Main) audit(ctx context.Context, args []string) error {
	var c config
	var user, since string
	var limit int
	var asJSON bool
	fs := m.newFlagSet("audit", &c)
	fs.StringVar(&user, "user", "", "only the events of the user with this name")
	fs.StringVar(&since, "since", "",
		"only events from this long ago, such as 24h, or since an RFC 3339 time")
	fs.IntVar(&limit, "limit", 100, "show at most the newest N events; 0 for all")
	fs.BoolVar(&asJSON, "json", false, "print one JSON object per line")

	svc, done, err := m.start(ctx, fs, &c, args)
	if err != nil {
		return err
	}
	defer done()

	filter, err := auditFilter(ctx, svc, user, since, limit)
	if err != nil {
		return err
	}
	events, err := svc.FindAuditEvents(ctx, filter)
	if err != nil {
		return err
	}
	slices.Reverse(events)

	if asJSON {
		return writeAuditJSON(m.Stdout, events)
	}
	return writeAuditTable(m.Stdout, events)
}

// auditFilter turns the command's flags into a filter. A user name that does
// not exist is an error: an empty listing would read as "nothing happened".
func auditFilter(ctx context.Context, svc *auth.Service, user, since string,
	limit int) (gatepass.AuditFilter, error) {
	filter := gatepass.AuditFilter{Limit: limit}
	if limit < 0 {
		return filter, fmt.Errorf("%w: limit: must be 0 or more, got %d", errUsage, limit)
	}

	if since != "" {
		t, err := parseSince(since, time.Now())
		if err != nil {
			return filter, fmt.Errorf("%w: since: %w", errUsage, err)
		}
		filter.Since = &t
	}

	if user != "" {
		users, err := svc.FindUsers(ctx, gatepass.UserFilter{Name: &user})
		if err != nil {
			return filter, err
		} else if len(users) == 0 {
			return filter, fmt.Errorf("no user named %q", user)
		}
		filter.UserID = &users[0].ID
	}
	return filter, nil
}

// parseSince reads --since: a duration back from now, or an RFC 3339 time.
func parseSince(v string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not a duration such as 24h or an RFC 3339 time", v)
}

// writeAuditTable prints events as an aligned table. Fields that came from a
// request (names, user agents) are escaped, so that none can forge a line or
// send the terminal control sequences.
func writeAuditTable(w io.Writer, events []*gatepass.AuditEvent) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tKIND\tUSER\tSESSION\tADDRESS\tUSER AGENT\tREASON\tDETAIL")
	for _, e := range events {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			e.OccurredAt.UTC().Format(time.RFC3339), cell(e.Kind), cell(auditUser(e)),
			cell(e.SessionID), cell(e.ClientIP),
			cell(shorten(e.UserAgent, auditUserAgentWidth)), cell(e.Reason),
			cell(e.Detail))
	}
	return tw.Flush()
}

// auditUser names the user of an event: the name it recorded, or the ID.
func auditUser(e *gatepass.AuditEvent) string {
	if e.Username == "" && e.UserID != 0 {
		return "#" + strconv.FormatInt(e.UserID, 10)
	}
	return e.Username
}

// cell makes s safe for one table cell: "-" when empty, and every character
// that is not printable, a tab included, escaped as in a Go string.
func cell(s string) string {
	if s == "" {
		return "-"
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsPrint(r) {
			b.WriteRune(r)
		} else {
			b.WriteString(strings.Trim(strconv.QuoteRune(r), "'"))
		}
	}
	return b.String()
}

// shorten cuts s to at most n runes, marking the cut with an ellipsis.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// auditJSON is one line of "gatepass audit --json".
type auditJSON struct {
	ID        int64     `json:"id"`
	Time      time.Time `json:"time"`
	Kind      string    `json:"kind"`
	UserID    int64     `json:"user_id,omitempty"`
	User      string    `json:"user,omitempty"`
	SessionID string    `json:"session_id,omitempty"`
	ClientIP  string    `json:"client_ip,omitempty"`
	UserAgent string    `json:"user_agent,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	Detail    string    `json:"detail,omitempty"`
}

// writeAuditJSON prints one JSON object per event and line.
func writeAuditJSON(w io.Writer, events []*gatepass.AuditEvent) error {
	enc := json.NewEncoder(w)
	for _, e := range events {
		err := enc.Encode(auditJSON{ID: e.ID, Time: e.OccurredAt.UTC(), Kind: e.Kind,
			UserID: e.UserID, User: e.Username, SessionID: e.SessionID,
			ClientIP: e.ClientIP, UserAgent: e.UserAgent, Reason: e.Reason,
			Detail: e.Detail})
		if err != nil {
			return fmt.Errorf("write event: %w", err)
		}
	}
	return nil
}
