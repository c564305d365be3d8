package store

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Migration is one numbered SQL script of a backend; applying it brings the schema to Version.
type Migration struct {
	Version int
	Name    string // the file's name, for errors
	SQL     string
}

// LoadMigrations reads the scripts migrations/NNNN_description.sql of fsys (a backend's embedded files) in
// version order. They must be numbered 1, 2, 3, ... without gaps or repeats: a gap would mean a lost file,
// and the schema version a database records would lie. Both backends number the same schema steps alike.
func LoadMigrations(fsys fs.FS) ([]Migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []Migration
	for _, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("store: migration %s: name must be NNNN_description.sql", base)
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: base, SQL: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("store: migration %s: want version %d (no gaps or repeats)", m.Name, i+1)
		}
	}
	return ms, nil
}
