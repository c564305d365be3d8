module github.com/crmsoap/crmsoap

go 1.26.8

tool github.com/hooklift/gowsdl/cmd/gowsdl

require (
	github.com/beevik/etree v1.8.1 // indirect
	github.com/hooklift/gowsdl v0.5.0 // indirect
	github.com/jonboulle/clockwork v0.5.0 // indirect
	github.com/mattn/go-sqlite3 v1.14.53 // indirect
	github.com/prometheus/client_golang v1.25.0 // indirect
	github.com/russellhaering/goxmldsig v1.6.1 // indirect
)
