package main

import (
	"flag"
	"fmt"
	"strconv"
	"time"
)

// envFlags registers flags whose defaults come from CRMSOAP_* environment
// variables, so that flags override the environment and the environment
// overrides the built-in default. Bad environment values are reported by check.
type envFlags struct {
	fs     *flag.FlagSet
	getenv func(string) string
	errs   []error
}

func (e *envFlags) env(name string) (string, bool) {
	v := e.getenv(name)
	return v, v != ""
}

func (e *envFlags) String(p *string, flagName, envName, def, usage string) {
	if v, ok := e.env(envName); ok {
		def = v
	}
	e.fs.StringVar(p, flagName, def, usage+" (env "+envName+")")
}

func (e *envFlags) Int64(p *int64, flagName, envName string, def int64, usage string) {
	if v, ok := e.env(envName); ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			e.errs = append(e.errs, fmt.Errorf("%s=%q: not an integer", envName, v))
		}
		def = n
	}
	e.fs.Int64Var(p, flagName, def, usage+" (env "+envName+")")
}

func (e *envFlags) Int(p *int, flagName, envName string, def int, usage string) {
	if v, ok := e.env(envName); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			e.errs = append(e.errs, fmt.Errorf("%s=%q: not an integer", envName, v))
		}
		def = n
	}
	e.fs.IntVar(p, flagName, def, usage+" (env "+envName+")")
}

func (e *envFlags) Bool(p *bool, flagName, envName string, def bool, usage string) {
	if v, ok := e.env(envName); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			e.errs = append(e.errs, fmt.Errorf("%s=%q: not a boolean", envName, v))
		}
		def = b
	}
	e.fs.BoolVar(p, flagName, def, usage+" (env "+envName+")")
}

func (e *envFlags) Duration(p *time.Duration, flagName, envName string, def time.Duration, usage string) {
	if v, ok := e.env(envName); ok {
		d, err := time.ParseDuration(v)
		if err != nil {
			e.errs = append(e.errs, fmt.Errorf("%s=%q: not a duration such as 30s", envName, v))
		}
		def = d
	}
	e.fs.DurationVar(p, flagName, def, usage+" (env "+envName+")")
}

// parse parses args and returns the first bad environment value, if any.
func (e *envFlags) parse(args []string) error {
	if len(e.errs) > 0 {
		return e.errs[0]
	}
	return e.fs.Parse(args)
}
