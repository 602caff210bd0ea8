package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/auth"
)

func (m *Main) user(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: user needs a subcommand: add, passwd, disable, enable, list, import",
			errUsage)
	}

	switch args[0] {
	case "add":
		return m.userAdd(ctx, args[1:])
	case "passwd":
		return m.userPasswd(ctx, args[1:])
	case "disable":
		return m.userSetDisabled(ctx, args[1:], true)
	case "enable":
		return m.userSetDisabled(ctx, args[1:], false)
	case "list":
		return m.userList(ctx, args[1:])
	case "import":
		return m.userImport(ctx, args[1:])
	}
	return fmt.Errorf("%w: unknown user subcommand %q", errUsage, args[0])
}

// userCommand parses a "user X NAME [flags]" command line and opens the service.
func (m *Main) userCommand(ctx context.Context, cmd string, args []string,
	extra func(*flag.FlagSet)) (string, *auth.Service, func(), error) {
	var c config
	name, rest := splitName(args)
	fs := m.newFlagSet("user "+cmd, &c)
	if extra != nil {
		extra(fs)
	}
	if name == "" {
		return "", nil, nil, fmt.Errorf("%w: usage: gatepass user %s NAME", errUsage, cmd)
	}

	svc, done, err := m.start(ctx, fs, &c, rest)
	return name, svc, done, err
}

func (m *Main) userAdd(ctx context.Context, args []string) error {
	var email string
	var fromStdin bool
	name, svc, done, err := m.userCommand(ctx, "add", args, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "e-mail address")
		fs.BoolVar(&fromStdin, "password-stdin", false, "read the password from stdin")
	})
	if err != nil {
		return err
	}
	defer done()

	pw, err := m.readPassword(fromStdin)
	if err != nil {
		return err
	}
	u, err := svc.CreateUser(ctx, auth.NewUser{Name: name, Email: email, Password: pw})
	if err != nil {
		return userError(err)
	}
	fmt.Fprintf(m.Stdout, "created user %s (id %d)\n", u.Name, u.ID)
	return nil
}

func (m *Main) userPasswd(ctx context.Context, args []string) error {
	var fromStdin bool
	name, svc, done, err := m.userCommand(ctx, "passwd", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&fromStdin, "password-stdin", false, "read the password from stdin")
	})
	if err != nil {
		return err
	}
	defer done()

	pw, err := m.readPassword(fromStdin)
	if err != nil {
		return err
	}
	if err := svc.SetPassword(ctx, name, pw); err != nil {
		return userError(err)
	}
	fmt.Fprintf(m.Stdout, "password changed for %s; all of its sessions were revoked\n", name)
	return nil
}

func (m *Main) userSetDisabled(ctx context.Context, args []string, disabled bool) error {
	cmd := map[bool]string{true: "disable", false: "enable"}[disabled]
	name, svc, done, err := m.userCommand(ctx, cmd, args, nil)
	if err != nil {
		return err
	}
	defer done()

	if err := svc.SetDisabled(ctx, name, disabled); err != nil {
		return userError(err)
	}
	if disabled {
		fmt.Fprintf(m.Stdout, "disabled %s; all of its sessions were revoked\n", name)
	} else {
		fmt.Fprintf(m.Stdout, "enabled %s\n", name)
	}
	return nil
}

func (m *Main) userList(ctx context.Context, args []string) error {
	var c config
	svc, done, err := m.start(ctx, m.newFlagSet("user list", &c), &c, args)
	if err != nil {
		return err
	}
	defer done()

	users, err := svc.FindUsers(ctx, gatepass.UserFilter{})
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tNAME\tEMAIL\tSTATUS\tCREATED")
	for _, u := range users {
		status := map[bool]string{true: "disabled", false: "active"}[u.Disabled]
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\n", u.ID, u.Name, u.Email, status,
			u.CreatedAt.Format("2006-01-02 15:04"))
	}
	return w.Flush()
}

// readPassword reads one line from stdin. Passwords are never taken as arguments,
// where they would end up in shell history and process listings.
func (m *Main) readPassword(fromStdin bool) (string, error) {
	if !fromStdin {
		return "", fmt.Errorf("%w: pass the password on stdin with --password-stdin", errUsage)
	}
	line, err := bufio.NewReader(io.LimitReader(m.Stdin, 4096)).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("read password: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// userError turns a domain error into a message for the terminal.
func userError(err error) error {
	if code := gatepass.ErrorCode(err); code != gatepass.EINTERNAL {
		return fmt.Errorf("%s", gatepass.ErrorMessage(err))
	}
	return err
}
