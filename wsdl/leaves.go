package wsdl

import (
	"bytes"
	"reflect"
	"time"

	"github.com/crmsoap/crmsoap/soap"
	xsd "github.com/hooklift/gowsdl/soap"
)

// Leaves writes gowsdl's date types in responses without encoding/xml, whose
// Encoder their MarshalXML methods otherwise need for every date of every
// customer: the same text, byte for byte (TestLeaves_MatchMarshalXML). Empty
// when the types are not laid out as this file expects (a gowsdl upgrade);
// their MarshalXML then runs as before.
var Leaves = leaves()

func leaves() map[reflect.Type]soap.LeafEncoder {
	m := make(map[reflect.Type]soap.LeafEncoder, 2)
	if timeAndFlag(reflect.TypeFor[xsd.XSDDate]()) {
		m[reflect.TypeFor[xsd.XSDDate]()] = encodeDate
	}
	if timeAndFlag(reflect.TypeFor[xsd.XSDDateTime]()) {
		m[reflect.TypeFor[xsd.XSDDateTime]()] = encodeDateTime
	}
	return m
}

// timeAndFlag reports whether t is struct{ time.Time; bool } with unexported
// fields: gowsdl's XSDDate{innerDate, hasTz} and XSDDateTime{innerTime, hasTz}.
func timeAndFlag(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && t.NumField() == 2 &&
		t.Field(0).Type == reflect.TypeFor[time.Time]() && t.Field(0).Offset == 0 &&
		t.Field(1).Type.Kind() == reflect.Bool
}

// innerTime reads the time and the has-time-zone flag of v, an addressable
// gowsdl date value whose layout timeAndFlag checked. The fields are
// unexported: reflect reads the flag, the time is read in place.
func innerTime(v reflect.Value) (time.Time, bool) {
	return *(*time.Time)(v.Addr().UnsafePointer()), v.Field(1).Bool()
}

// encodeDateTime is XSDDateTime.MarshalXML: nothing for the zero time, else
// RFC 3339 with the fraction only when there is one. A value without a time
// zone (which the adapter never makes) is left to MarshalXML.
func encodeDateTime(dst []byte, v reflect.Value) ([]byte, bool, bool) {
	t, hasTZ := innerTime(v)
	switch {
	case t.IsZero():
		return dst, true, true
	case !hasTZ:
		return dst, false, false
	case t.Nanosecond() == 0:
		return t.AppendFormat(dst, time.RFC3339), false, true
	}
	return t.AppendFormat(dst, time.RFC3339Nano), false, true
}

// encodeDate is XSDDate.MarshalXML: nothing for the zero time, else the date
// with its time zone, which is cut off when the value has none.
func encodeDate(dst []byte, v reflect.Value) ([]byte, bool, bool) {
	t, hasTZ := innerTime(v)
	if t.IsZero() {
		return dst, true, true
	}
	n := len(dst)
	dst = t.AppendFormat(dst, "2006-01-02Z07:00")
	switch {
	case hasTZ:
	case bytes.IndexByte(dst[n:], 'Z') >= 0:
		dst = dst[:n+bytes.IndexByte(dst[n:], 'Z')]
	case len(dst)-n > 5:
		dst = dst[:len(dst)-6]
	}
	return dst, false, true
}
