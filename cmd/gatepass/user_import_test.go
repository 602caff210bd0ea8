package main_test

import (
	"context"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// djangoHash builds a Django pbkdf2_sha256 hash the way Django does.
func djangoHash(tb testing.TB, pw, salt string) string {
	tb.Helper()
	key, err := pbkdf2.Key(sha256.New, pw, []byte(salt), 1000, 32)
	if err != nil {
		tb.Fatal(err)
	}
	return fmt.Sprintf("pbkdf2_sha256$1000$%s$%s", salt,
		base64.StdEncoding.EncodeToString(key))
}

func bcryptHash(tb testing.TB, pw string) string {
	tb.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		tb.Fatal(err)
	}
	return string(h)
}

func writeFile(tb testing.TB, name, text string) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// TestUserImport imports users in each format with hashes made for known
// passwords, signs each in with the old password and checks the hash became
// argon2id on the way.
func TestUserImport(t *testing.T) {
	p := NewProgram(t)
	django := writeFile(t, "users.json", fmt.Sprintf(`[
		{"model": "auth.user", "pk": 1, "fields": {"username": "dj", "email": "dj@example.com",
		 "password": %q, "is_active": true}},
		{"model": "auth.user", "pk": 2, "fields": {"username": "social", "password": "!xyz"}},
		{"model": "auth.group", "pk": 1, "fields": {"name": "staff"}}]`,
		djangoHash(t, "django-secret", "s4lt")))
	htpasswd := writeFile(t, "users.htpasswd",
		"# exported\nbc:"+bcryptHash(t, "bcrypt-secret")+"\n")
	csvFile := writeFile(t, "users.csv", "username,email,password_hash,disabled\n"+
		"cv,cv@example.com,"+bcryptHash(t, "csv-secret")+",false\n"+
		"off,,"+bcryptHash(t, "off-secret")+",true\n")

	out := p.MustRun(t, "", "user", "import", "--format", "django", django)
	if !strings.Contains(out, "imported 1 users; skipped 1") {
		t.Errorf("django import printed %q", out)
	}
	p.MustRun(t, "", "user", "import", htpasswd, "--format", "bcrypt")
	p.MustRun(t, "", "user", "import", "--format", "csv", csvFile)

	srv := p.MustServe(t)
	for name, pw := range map[string]string{"dj": "django-secret", "bc": "bcrypt-secret",
		"cv": "csv-secret"} {
		status, body := postForm(t, srv.URL+"/oauth/token", url.Values{
			"grant_type": {"password"}, "username": {name}, "password": {pw}})
		if status != http.StatusOK {
			t.Errorf("sign-in of imported %s: %d %v", name, status, body)
		}
	}
	status, _ := postForm(t, srv.URL+"/oauth/token", url.Values{
		"grant_type": {"password"}, "username": {"off"}, "password": {"off-secret"}})
	if status == http.StatusOK {
		t.Error("an account imported as disabled signed in")
	}
	srv.Stop(t)

	if hashes := storedHashes(t, p.DB); !strings.HasPrefix(hashes["dj"], "$argon2id$") ||
		!strings.HasPrefix(hashes["bc"], "$argon2id$") ||
		!strings.HasPrefix(hashes["off"], "$2") {
		t.Errorf("stored hash prefixes after sign-in: %v", hashes)
	}
}

// TestUserImport_allOrNothing: one bad row anywhere and nothing is imported.
func TestUserImport_allOrNothing(t *testing.T) {
	p := NewProgram(t)
	p.MustRun(t, "existing-password\n", "user", "add", "taken", "--password-stdin")

	tests := []struct {
		name, text, want string
	}{
		{name: "bad-hash", text: "username,password_hash\nok1," + bcryptHash(t, "x") +
			"\nbroken,plaintext\n", want: "user 2"},
		{name: "taken-name", text: "username,password_hash\nok2," + bcryptHash(t, "x") +
			"\ntaken," + bcryptHash(t, "y") + "\n", want: "taken"},
		{name: "no-header", text: "ok3," + bcryptHash(t, "x") + "\n", want: "header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := p.Run("", "user", "import", writeFile(t, "u.csv", tt.text))
			if r.Err == nil || !strings.Contains(r.Err.Error(), tt.want) {
				t.Errorf("err = %v, want one mentioning %q", r.Err, tt.want)
			}
			if r.Err != nil && strings.Contains(r.Err.Error(), "$2") {
				t.Errorf("the error shows a hash: %v", r.Err)
			}
		})
	}
	list := p.MustRun(t, "", "user", "list")
	if strings.Contains(list, "ok1") || strings.Contains(list, "ok2") {
		t.Errorf("a failed import left users behind:\n%s", list)
	}
}

// storedHashes reads the password hashes straight from the SQLite file.
func storedHashes(tb testing.TB, path string) map[string]string {
	tb.Helper()
	db := openSQL(tb, path)
	rows, err := db.QueryContext(context.Background(), "SELECT name, password_hash FROM users")
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	hashes := map[string]string{}
	for rows.Next() {
		var name, hash string
		if err := rows.Scan(&name, &hash); err != nil {
			tb.Fatal(err)
		}
		hashes[name] = hash
	}
	return hashes
}
