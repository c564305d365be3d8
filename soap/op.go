package soap

import (
	"context"
	"encoding/xml"
	"errors"
	"reflect"
)

// Operation binds one body element to a handler. Build it with Op.
type Operation struct {
	name    xml.Name
	action  string
	reqType reflect.Type
	resType reflect.Type // *Resp
	call    func(ctx context.Context, req any) (any, error)
	// WS-Addressing (see Addressing): the reply's action and other accepted actions.
	reply        string
	alternatives []string
}

// errNilResponse is returned by an operation whose handler returned neither a
// response nor an error.
var errNilResponse = errors.New("operation returned a nil response and a nil error")

// Op makes an Operation for handler fn: Req is decoded strictly from the body
// element name, and the returned *Resp is marshalled as encoding/xml would
// (see encodeXML) as the response body. Req and Resp are structs such as the types gowsdl generates;
// Resp carries its own XMLName with its namespace. action is the operation's
// SOAPAction (SOAP 1.1) or action parameter (SOAP 1.2).
func Op[Req, Resp any](name xml.Name, action string, fn func(context.Context, *Req) (*Resp, error)) Operation {
	return Operation{
		name:    name,
		action:  action,
		reqType: reflect.TypeFor[Req](),
		resType: reflect.TypeFor[*Resp](),
		call: func(ctx context.Context, req any) (any, error) {
			resp, err := fn(ctx, req.(*Req))
			if err != nil {
				return nil, err
			}
			if resp == nil {
				return nil, errNilResponse
			}
			return resp, nil
		},
	}
}

// Name is the qualified name of the body element the operation handles.
func (o Operation) Name() xml.Name { return o.name }

// Action is the operation's SOAPAction (SOAP 1.1) or action parameter (SOAP 1.2).
func (o Operation) Action() string { return o.action }
