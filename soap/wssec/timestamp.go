package wssec

import (
	"strings"
	"time"

	"github.com/beevik/etree"
)

// timestamp is the parsed wsu:Timestamp of a Security header.
type timestamp struct {
	el               *etree.Element
	created, expires time.Time
}

// parseTimestamp finds exactly one wsu:Timestamp directly in the Security header, with exactly one Created
// and exactly one Expires.
func parseTimestamp(cur *nsCursor, sec *etree.Element) (*timestamp, error) {
	tss := cur.childElements(sec, NamespaceWSU, "Timestamp")
	switch {
	case len(tss) == 0:
		return nil, invalid("missing timestamp")
	case len(tss) > 1:
		return nil, invalid("more than one timestamp")
	}
	ts := &timestamp{el: tss[0]}
	created := cur.childElements(ts.el, NamespaceWSU, "Created")
	if len(created) != 1 {
		return nil, invalid("timestamp must have exactly one Created")
	}
	expires := cur.childElements(ts.el, NamespaceWSU, "Expires")
	if len(expires) != 1 {
		return nil, invalid("timestamp must have exactly one Expires")
	}
	var err error
	if ts.created, err = parseDateTime(created[0]); err != nil {
		return nil, invalid("timestamp Created is not a valid dateTime")
	}
	if ts.expires, err = parseDateTime(expires[0]); err != nil {
		return nil, invalid("timestamp Expires is not a valid dateTime")
	}
	if ts.expires.Before(ts.created) {
		return nil, invalid("timestamp expires before it is created")
	}
	return ts, nil
}

// parseDateTime reads an xsd:dateTime with an explicit zone (WSS asks for UTC "Z"); a zone-less time is
// ambiguous and refused. The element must hold text only.
func parseDateTime(el *etree.Element) (time.Time, error) {
	if len(el.ChildElements()) > 0 {
		return time.Time{}, errNotDateTime
	}
	return time.Parse(time.RFC3339Nano, strings.TrimSpace(el.Text()))
}

var errNotDateTime = invalid("not a dateTime")

// check applies the freshness rules: Created not in the future beyond skew, Expires not passed (with skew),
// and the message not older than ttl (with skew).
func (ts *timestamp) check(now time.Time, skew, ttl time.Duration) error {
	switch {
	case ts.created.After(now.Add(skew)):
		return newError(FaultMessageExpired, "timestamp created in the future")
	case !now.Before(ts.expires.Add(skew)):
		return newError(FaultMessageExpired, "timestamp expired")
	case now.Sub(ts.created) > ttl+skew:
		return newError(FaultMessageExpired, "timestamp too old")
	}
	return nil
}

// replayExpiry is when a signature seen now stops mattering for replay detection: after it, the timestamp
// check refuses the message anyway.
func (ts *timestamp) replayExpiry(skew, ttl time.Duration) time.Time {
	end := ts.created.Add(ttl)
	if ts.expires.Before(end) {
		end = ts.expires
	}
	return end.Add(skew)
}
