// Package migration reads the numbered schema migrations each storage engine
// embeds. Applying them is the engine's business: each records versions its own
// way and runs them in its own kind of transaction.
package migration

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
)

// Migration is one numbered schema change.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Load returns the migrations in fsys matching pattern (such as
// "migrations/*.sql"), named NNNN_description.sql, in order. It fails when their
// numbering has a gap or a duplicate, so a bad file name breaks every test.
func Load(fsys fs.FS, pattern string) ([]Migration, error) {
	names, err := fs.Glob(fsys, pattern)
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}

	// fs.Glob returns names sorted, so zero-padded numbers come in order.
	migrations := make([]Migration, 0, len(names))
	for i, name := range names {
		base := path.Base(name)
		prefix, _, _ := strings.Cut(base, "_")
		version, err := strconv.Atoi(prefix)
		if err != nil || version != i+1 {
			return nil, fmt.Errorf("migration %s: want number %04d", base, i+1)
		}

		text, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", base, err)
		}
		migrations = append(migrations, Migration{Version: version, Name: base,
			SQL: string(text)})
	}
	if len(migrations) == 0 {
		return nil, errors.New("no migrations embedded")
	}
	return migrations, nil
}
