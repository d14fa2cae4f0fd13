package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"zwfw/bff"
	"zwfw/identity"
)

// createStaff creates a government-side account with the deployment's own
// configuration: how the first admin of a production database comes to be
// (demo accounts exist only with ZWFW_SEED_DEMO=on). The password comes
// from ZWFW_STAFF_PASSWORD, never from the command line (ps shows it).
func createStaff(cfg bff.Config, log *slog.Logger, username, name, roles string) error {
	password := os.Getenv("ZWFW_STAFF_PASSWORD")
	if password == "" {
		return fmt.Errorf("-create-staff: set ZWFW_STAFF_PASSWORD to the new account's password")
	}
	var rs []identity.Role
	for _, r := range strings.Split(roles, ",") {
		if r = strings.TrimSpace(r); r != "" {
			rs = append(rs, identity.Role(r))
		}
	}
	if name == "" {
		name = username
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	app, err := bff.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	_, err = app.Identity().CreateStaff(ctx, username, name, password, rs)
	if serr := app.Shutdown(ctx); err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("-create-staff %s: %w", username, err)
	}
	fmt.Fprintf(os.Stderr, "zwfw: staff account %s created (roles %s)\n", username, roles)
	return nil
}
