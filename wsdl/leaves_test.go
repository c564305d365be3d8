package wsdl

import (
	"encoding/xml"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/soap"
	xsd "github.com/hooklift/gowsdl/soap"
)

// TestLeaves_MatchMarshalXML compares the leaf encoders with gowsdl's MarshalXML through encoding/xml on
// random dates: every year from before 1 to after 9999, fractions or none, UTC, fixed zones and Local,
// with and without a time zone, and the zero value.
func TestLeaves_MatchMarshalXML(t *testing.T) {
	if len(Leaves) != 2 {
		t.Fatalf("%d leaf encoders, want 2: gowsdl's date types are no longer laid out as expected", len(Leaves))
	}
	r := rand.New(rand.NewPCG(1, 2))
	zones := []*time.Location{time.UTC, time.Local, time.FixedZone("", 0), time.FixedZone("", 5*3600+30*60),
		time.FixedZone("", -9*3600)}
	times := []time.Time{{}, time.Unix(0, 0), time.Date(1, 1, 1, 0, 0, 0, 0, time.FixedZone("", -3600)),
		time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)}
	for range 5000 {
		sec := r.Int64N(400_000_000_000) - 100_000_000_000 // about year -1200 to 10700
		nsec := int64(0)
		if r.IntN(2) == 0 {
			nsec = r.Int64N(1e9)
		}
		times = append(times, time.Unix(sec, nsec).In(zones[r.IntN(len(zones))]))
	}
	for _, tm := range times {
		for _, hasTZ := range []bool{true, false} {
			checkLeaf(t, &struct {
				XMLName xml.Name        `xml:"urn:crmsoap:v1 w"`
				V       xsd.XSDDateTime `xml:"v,omitempty"`
			}{V: xsd.CreateXsdDateTime(tm, hasTZ)}, reflect.TypeFor[xsd.XSDDateTime]())
			checkLeaf(t, &struct {
				XMLName xml.Name    `xml:"urn:crmsoap:v1 w"`
				V       xsd.XSDDate `xml:"v,omitempty"`
			}{V: xsd.CreateXsdDate(tm, hasTZ)}, reflect.TypeFor[xsd.XSDDate]())
		}
	}
}

// checkLeaf marshals w (a struct whose field V is of type typ) with encoding/xml and compares V's element
// with what the leaf encoder of typ writes, unless the encoder hands V back to MarshalXML.
func checkLeaf(t *testing.T, w any, typ reflect.Type) {
	t.Helper()
	want, err := xml.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	v := reflect.ValueOf(w).Elem().Field(1)
	text, omit, ok := Leaves[typ](nil, v)
	if !ok {
		return
	}
	got := `<w xmlns="urn:crmsoap:v1">`
	if !omit {
		got += "<v>" + string(text) + "</v>"
	}
	got += "</w>"
	if got != string(want) {
		t.Fatalf("%v %+v:\n got %s\nwant %s", typ, v, got, want)
	}
}

// TestLeaves_Coverage: what the adapter writes never falls back to MarshalXML.
func TestLeaves_Coverage(t *testing.T) {
	now := time.Date(2026, 12, 2, 16, 4, 5, 123456789, time.UTC)
	for _, c := range []struct {
		v   any
		enc soap.LeafEncoder
	}{
		{dateTimeOut(now), Leaves[reflect.TypeFor[xsd.XSDDateTime]()]},
		{dateTimeOut(now.Truncate(time.Second)), Leaves[reflect.TypeFor[xsd.XSDDateTime]()]},
		{dateOut(now), Leaves[reflect.TypeFor[xsd.XSDDate]()]},
	} {
		p := reflect.New(reflect.TypeOf(c.v))
		p.Elem().Set(reflect.ValueOf(c.v))
		if _, omit, ok := c.enc(nil, p.Elem()); !ok || omit {
			t.Errorf("%T %v: ok %v, omit %v; want it written by the leaf encoder", c.v, c.v, ok, omit)
		}
	}
}
