// Package xmlparse is the one pass over untrusted XML of package soap: a
// strict, non-validating XML 1.0 parser that enforces its limits while it reads
// and builds the etree document etree's own parser would build for the same
// bytes. Every refusal is an *Error whose Kind tells a malformed document from
// a rule lenient parsers skip, a construct refused on purpose, or a limit.
//
// Scope resolves namespace prefixes of any etree tree with one map lookup each,
// for package soap and package soap/wssec alike.
package xmlparse
