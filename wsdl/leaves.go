package wsdl

import (
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

// timeAndFlag reports whether t is struct{ time.Time; bool }: gowsdl's
// XSDDate{innerDate, hasTz} and XSDDateTime{innerTime, hasTz}, whose flag
// tells whether MarshalXML writes a time zone.
func timeAndFlag(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && t.NumField() == 2 &&
		t.Field(0).Type == reflect.TypeFor[time.Time]() && t.Field(1).Type.Kind() == reflect.Bool
}

// hasTZ reads the has-time-zone flag of v, a gowsdl date value whose layout
// timeAndFlag checked (reflect may read an unexported field, not set it).
func hasTZ(v reflect.Value) bool { return v.Field(1).Bool() }

// encodeDateTime is XSDDateTime.MarshalXML: nothing for the zero time, else
// RFC 3339 with the fraction only when there is one. A value without a time
// zone (which the adapter never makes) is left to MarshalXML.
func encodeDateTime(dst []byte, v reflect.Value) ([]byte, bool, bool) {
	if !hasTZ(v) {
		return dst, false, false
	}
	// With a time zone, ToGoTime is the stored time itself.
	t := v.Addr().Interface().(*xsd.XSDDateTime).ToGoTime()
	switch {
	case t.IsZero():
		return dst, true, true
	case t.Nanosecond() == 0:
		return t.AppendFormat(dst, time.RFC3339), false, true
	}
	return t.AppendFormat(dst, time.RFC3339Nano), false, true
}

// encodeDate is XSDDate.MarshalXML: nothing for the zero time, else the date
// with its time zone, which is cut off when the value has none. Without a time
// zone ToGoTime keeps the stored year, month and day (in time.Local); 1 January
// of year 1, which may be the zero time, is left to MarshalXML.
func encodeDate(dst []byte, v reflect.Value) ([]byte, bool, bool) {
	if v.IsZero() {
		return dst, true, true
	}
	t := v.Addr().Interface().(*xsd.XSDDate).ToGoTime()
	if !hasTZ(v) {
		if t.Year() == 1 && t.YearDay() == 1 {
			return dst, false, false
		}
		return t.AppendFormat(dst, time.DateOnly), false, true
	}
	if t.IsZero() {
		return dst, true, true
	}
	return t.AppendFormat(dst, "2006-01-02Z07:00"), false, true
}
