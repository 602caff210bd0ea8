package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatepass/gatepass"
)

// testCreateUser checks that CreateUser assigns distinct IDs and that both
// lookups return the user as created.
func testCreateUser(t *testing.T, s gatepass.Store) {
	ctx := t.Context()
	alice := createUser(t, s, "alice")
	bob := newUser("bob")
	bob.Email, bob.Disabled, bob.UpdatedAt = "", true, time.Time{}
	update(t, s, func(tx gatepass.Tx) error { return tx.CreateUser(ctx, bob) })
	if alice.ID == 0 || bob.ID == 0 || alice.ID == bob.ID {
		t.Fatalf("user IDs = %d, %d; want distinct and non-zero", alice.ID, bob.ID)
	}

	for _, want := range []*gatepass.User{alice, bob} {
		view(t, s, func(tx gatepass.Tx) error {
			got, err := tx.FindUserByID(ctx, want.ID)
			if err != nil {
				return err
			}
			if diff := cmp.Diff(got, want); diff != "" {
				t.Errorf("FindUserByID(%d) (-got +want):\n%s", want.ID, diff)
			}

			got, err = tx.FindUserByName(ctx, want.Name)
			if err != nil {
				return err
			}
			if diff := cmp.Diff(got, want); diff != "" {
				t.Errorf("FindUserByName(%q) (-got +want):\n%s", want.Name, diff)
			}
			return nil
		})
	}
}

// testFindUsers checks the name filter, ordering by name, offset and limit.
func testFindUsers(t *testing.T, s gatepass.Store) {
	for _, name := range []string{"carol", "alice", "bob"} {
		createUser(t, s, name)
	}

	bob, nobody := "bob", "nobody"
	tests := []struct {
		name   string
		filter gatepass.UserFilter
		want   []string
	}{
		{name: "all", filter: gatepass.UserFilter{}, want: []string{"alice", "bob", "carol"}},
		{name: "by-name", filter: gatepass.UserFilter{Name: &bob}, want: []string{"bob"}},
		{name: "unknown-name", filter: gatepass.UserFilter{Name: &nobody}, want: []string{}},
		{name: "limit", filter: gatepass.UserFilter{Limit: 2}, want: []string{"alice", "bob"}},
		{
			name:   "offset",
			filter: gatepass.UserFilter{Offset: 1},
			want:   []string{"bob", "carol"},
		},
		{
			name:   "offset-and-limit",
			filter: gatepass.UserFilter{Offset: 1, Limit: 1},
			want:   []string{"bob"},
		},
		{name: "offset-past-end", filter: gatepass.UserFilter{Offset: 3}, want: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			view(t, s, func(tx gatepass.Tx) error {
				users, err := tx.FindUsers(t.Context(), tt.filter)
				if err != nil {
					return err
				}
				got := []string{}
				for _, u := range users {
					got = append(got, u.Name)
				}
				if diff := cmp.Diff(got, tt.want); diff != "" {
					t.Errorf("FindUsers names (-got +want):\n%s", diff)
				}
				return nil
			})
		})
	}
}

// testUpdateUser checks that UpdateUser changes exactly the fields it is given:
// nil pointers and a zero UpdatedAt leave theirs alone.
func testUpdateUser(t *testing.T, s gatepass.Store) {
	alice := createUser(t, s, "alice")
	bob := createUser(t, s, "bob")
	email, hash, disabled, enabled := "new@example.com", "$argon2id$new", true, false

	tests := []struct {
		name string
		upd  gatepass.UserUpdate
		want func(u *gatepass.User)
	}{
		{
			name: "every-field",
			upd: gatepass.UserUpdate{Email: &email, PasswordHash: &hash, Disabled: &disabled,
				UpdatedAt: now},
			want: func(u *gatepass.User) {
				u.Email, u.PasswordHash, u.Disabled, u.UpdatedAt = email, hash, true, now
			},
		},
		{
			name: "one-field",
			upd:  gatepass.UserUpdate{Disabled: &enabled},
			want: func(u *gatepass.User) { u.Disabled = false },
		},
		{
			name: "updated-at-only",
			upd:  gatepass.UserUpdate{UpdatedAt: now.Add(time.Hour)},
			want: func(u *gatepass.User) { u.UpdatedAt = now.Add(time.Hour) },
		},
		{
			name: "no-fields",
			upd:  gatepass.UserUpdate{},
			want: func(u *gatepass.User) {},
		},
	}
	// The cases run in order, each on the result of the one before.
	want := *alice
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			update(t, s, func(tx gatepass.Tx) error {
				return tx.UpdateUser(ctx, alice.ID, tt.upd)
			})
			tt.want(&want)

			view(t, s, func(tx gatepass.Tx) error {
				got, err := tx.FindUserByID(ctx, alice.ID)
				if err != nil {
					return err
				}
				if diff := cmp.Diff(got, &want); diff != "" {
					t.Errorf("user (-got +want):\n%s", diff)
				}

				// The other user is untouched.
				gotBob, err := tx.FindUserByID(ctx, bob.ID)
				if err != nil {
					return err
				}
				if diff := cmp.Diff(gotBob, bob); diff != "" {
					t.Errorf("other user (-got +want):\n%s", diff)
				}
				return nil
			})
		})
	}
}
