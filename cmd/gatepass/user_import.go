package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/gatepass/gatepass/auth"
)

// maxImportBytes bounds an import file; a million users fit well within it.
const maxImportBytes = 1 << 30

func (m *Main) userImport(ctx context.Context, args []string) error {
	var c config
	var format string
	fs := m.newFlagSet("user import", &c)
	fs.StringVar(&format, "format", "csv", "django, bcrypt or csv")
	file, rest := splitName(args)
	if err := m.parse(fs, rest); err != nil {
		return err
	}
	if file == "" && fs.NArg() == 1 {
		file = fs.Arg(0)
	} else if file == "" || fs.NArg() > 0 {
		return fmt.Errorf("%w: usage: gatepass user import [--format F] FILE", errUsage)
	}

	svc, done, err := m.open(ctx, &c)
	if err != nil {
		return err
	}
	defer done()

	users, skipped, err := m.readImport(format, file)
	if err != nil {
		return err
	}
	if err := svc.ImportUsers(ctx, users); err != nil {
		return userError(err)
	}
	fmt.Fprintf(m.Stdout, "imported %d users", len(users))
	if skipped > 0 {
		fmt.Fprintf(m.Stdout, "; skipped %d without a usable password", skipped)
	}
	fmt.Fprintln(m.Stdout)
	return nil
}

// readImport reads FILE ("-" for standard input) in the given format.
func (m *Main) readImport(format, file string) ([]auth.ImportedUser, int, error) {
	var r io.Reader = m.Stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return nil, 0, err
		}
		defer f.Close()
		r = f
	}
	r = io.LimitReader(r, maxImportBytes)

	switch format {
	case "django":
		return readDjango(r)
	case "bcrypt":
		users, err := readBcrypt(r)
		return users, 0, err
	case "csv":
		users, err := readCSV(r)
		return users, 0, err
	}
	return nil, 0, fmt.Errorf("%w: --format must be django, bcrypt or csv", errUsage)
}

// readDjango reads the output of Django's "manage.py dumpdata auth.user": a JSON
// array of {"model": "auth.user", "fields": {...}}. Accounts whose password Django
// marks unusable (it starts with "!") cannot sign in with a password; they are
// skipped and counted.
func readDjango(r io.Reader) ([]auth.ImportedUser, int, error) {
	var records []struct {
		Model  string `json:"model"`
		Fields struct {
			Username string `json:"username"`
			Email    string `json:"email"`
			Password string `json:"password"`
			IsActive *bool  `json:"is_active"`
		} `json:"fields"`
	}
	if err := json.NewDecoder(r).Decode(&records); err != nil {
		return nil, 0, fmt.Errorf("read django fixture: %w", err)
	}

	var users []auth.ImportedUser
	skipped := 0
	for _, rec := range records {
		if rec.Model != "auth.user" {
			continue
		} else if f := rec.Fields; f.Password == "" || strings.HasPrefix(f.Password, "!") {
			skipped++
			continue
		}
		f := rec.Fields
		users = append(users, auth.ImportedUser{Name: f.Username, Email: f.Email,
			PasswordHash: f.Password, Disabled: f.IsActive != nil && !*f.IsActive})
	}
	return users, skipped, nil
}

// readBcrypt reads "name:hash" lines, as htpasswd writes them; blank lines and
// lines starting with # are ignored.
func readBcrypt(r io.Reader) ([]auth.ImportedUser, error) {
	var users []auth.ImportedUser
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, hash, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("line %d: want name:hash", n)
		}
		users = append(users, auth.ImportedUser{Name: name, PasswordHash: hash})
	}
	return users, sc.Err()
}

// readCSV reads a CSV file whose header names the columns username, email,
// password_hash and, optionally, disabled (true or false).
func readCSV(r io.Reader) ([]auth.ImportedUser, error) {
	cr := csv.NewReader(r)
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read csv header: %w", err)
	}
	col := func(name string) int { return slices.Index(header, name) }
	name, email, hash, disabled := col("username"), col("email"), col("password_hash"),
		col("disabled")
	if name < 0 || hash < 0 {
		return nil, errors.New("csv: the header must name username and password_hash")
	}

	var users []auth.ImportedUser
	for n := 2; ; n++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return users, nil
		} else if err != nil {
			return nil, fmt.Errorf("read csv: %w", err)
		}
		u := auth.ImportedUser{Name: rec[name], PasswordHash: rec[hash]}
		if email >= 0 {
			u.Email = rec[email]
		}
		if disabled >= 0 && rec[disabled] != "" {
			if u.Disabled, err = strconv.ParseBool(rec[disabled]); err != nil {
				return nil, fmt.Errorf("csv line %d: disabled must be true or false", n)
			}
		}
		users = append(users, u)
	}
}
