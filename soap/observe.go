package soap

import "time"

// Observation is what the handler reports about one finished request.
type Observation struct {
	Operation string // local name of the body element; "" when routing did not get that far
	Version   Version
	Outcome   string // "ok", a fault code, "VersionMismatch", "MustUnderstand", "canceled" (the client went away), or "info"/"wsdl" for GETs
	// SecurityFailure is the WS-Security fault of a refused message (such as
	// "FailedCheck" or "MessageExpired"), "" otherwise.
	SecurityFailure string
	Principal       string
	Status          int
	Duration        time.Duration
	BytesIn         int
	BytesOut        int
	// Signed says the response carries the server's signature
	// (Config.SignResponse): only requests that passed Security are answered so.
	Signed bool
}

// Observer receives request events, for metrics. Its methods are called on the
// request path, concurrently: they must be fast and safe for concurrent use.
type Observer interface {
	// Begin is called when a request starts; every Begin is followed by one End.
	Begin()
	End(Observation)
}
