package bff

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zwfw/identity"
	"zwfw/platform/mongox"
)

// demoAccount is a seeded staff login, shown in the start-up banner.
type demoAccount struct {
	Username     string
	Roles        string
	PasswordFile string
}

var demoStaff = []struct {
	username, name string
	roles          []identity.Role
}{
	{"admin", "系统管理员", []identity.Role{identity.RoleAdmin}},
	{"hotline01", "12345热线坐席", []identity.Role{identity.RoleHotline}},
	{"hall01", "政务服务大厅窗口", []identity.Role{identity.RoleStaff}},
	{"jiancha01", "电子监察督查员", []identity.Role{identity.RoleSupervisor}},
}

const demoSeedID = "seed:demo:v1"

// seedDemo creates the demo data once per database: government-side staff
// accounts with generated passwords (written to <data dir>/demo-accounts.txt,
// never to the repository). Citizens need no seeding: the sandbox logs anyone
// in with a "test:<name>" code. Later capabilities add their demo data here.
func (a *App) seedDemo(ctx context.Context) ([]demoAccount, error) {
	meta := mongox.C(a.db, "meta")
	file := filepath.Join(a.cfg.DataDir, "demo-accounts.txt")
	var out []demoAccount
	for _, s := range demoStaff {
		out = append(out, demoAccount{Username: s.username, Roles: joinRoles(s.roles), PasswordFile: file})
	}
	err := meta.FindOne(ctx, bson.D{{Key: "_id", Value: demoSeedID}}).Err()
	if err == nil {
		return out, nil
	}
	if !mongox.IsNoDocuments(err) {
		return nil, err
	}
	var lines []string
	for _, s := range demoStaff {
		pw := "Demo" + randomHex(6) + "9"
		if _, err := a.identity.CreateStaff(ctx, s.username, s.name, pw, s.roles); err != nil {
			if errors.Is(err, identity.ErrStaffUsernameUsed) {
				continue
			}
			return nil, err
		}
		lines = append(lines, fmt.Sprintf("%s\t%s\t%s", s.username, pw, joinRoles(s.roles)))
	}
	if len(lines) > 0 {
		if err := os.MkdirAll(a.cfg.DataDir, 0o700); err != nil {
			return nil, err
		}
		body := "# zwfw demo staff accounts (generated at first start; POST /api/v1/auth/staff)\n# username\tpassword\troles\n" +
			strings.Join(lines, "\n") + "\n"
		if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
			return nil, err
		}
	}
	_, err = meta.InsertOne(ctx, bson.D{{Key: "_id", Value: demoSeedID}, {Key: "at", Value: time.Now().UTC()}})
	if err != nil && !mongox.IsDuplicateKey(err) {
		return nil, err
	}
	return out, nil
}

func joinRoles(roles []identity.Role) string {
	s := make([]string, len(roles))
	for i, r := range roles {
		s[i] = string(r)
	}
	return strings.Join(s, ",")
}
