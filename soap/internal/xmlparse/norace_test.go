//go:build !race

package xmlparse

const raceEnabled = false
