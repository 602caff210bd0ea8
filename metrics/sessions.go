package metrics

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// sessionsTimeout bounds one count of active sessions, so that a hung database
// cannot hold a scrape for long.
const sessionsTimeout = 5 * time.Second

// sessionsCollector reports gatepass_active_sessions at scrape time from a count
// it reuses for Metrics.SessionsInterval. Counting walks the sessions table, and
// a scraper, or many of them, must not be able to make the database do that on
// demand.
//
// A count that fails is logged and the metric is left out of the scrapes until a
// count succeeds: an old number served as current would hide the outage, while a
// missing series shows up at once (alert on absent(gatepass_active_sessions)).
// The failure is reused for the interval too, so an outage adds no load.
type sessionsCollector struct {
	m        *Metrics
	sessions SessionCounter
	desc     *prometheus.Desc

	mu      sync.Mutex
	counted time.Time // when the last count ran; zero before the first
	n       int64
	ok      bool // whether the last count succeeded
}

func newSessionsCollector(m *Metrics, sessions SessionCounter) *sessionsCollector {
	return &sessionsCollector{
		m:        m,
		sessions: sessions,
		desc: prometheus.NewDesc("gatepass_active_sessions",
			"Sessions that can still refresh: not revoked and not expired. "+
				"Counted at most once per interval, not on every scrape.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *sessionsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.desc
}

// Collect implements prometheus.Collector.
func (c *sessionsCollector) Collect(ch chan<- prometheus.Metric) {
	if n, ok := c.count(); ok {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n))
	}
}

// count returns the number of active sessions and whether it is known, counting
// again only when the last count is older than the interval. Scrapes that arrive
// during a count wait for it and share its result.
func (c *sessionsCollector) count() (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()

	now := c.m.Now()
	if !c.counted.IsZero() && now.Sub(c.counted) < c.interval() {
		return c.n, c.ok
	}

	ctx, cancel := context.WithTimeout(context.Background(), sessionsTimeout)
	defer cancel()
	n, err := c.sessions.CountActiveSessions(ctx)
	c.counted = now
	if err != nil {
		c.m.Logger.Error("counting active sessions failed", attrError, err)
		c.n, c.ok = 0, false
		return 0, false
	}
	c.n, c.ok = n, true
	return n, true
}

// interval returns the configured interval or the default.
func (c *sessionsCollector) interval() time.Duration {
	if c.m.SessionsInterval > 0 {
		return c.m.SessionsInterval
	}
	return defaultSessionsInterval
}
