// Command zwfw is the 政务服务 mobile BFF. With no configuration it runs the
// embedded default: FerretDB, miniredis and the sandbox in-process, with demo
// data. See README.md for the environment variables.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	_ "time/tzdata" // Asia/Shanghai must resolve on minimal images too

	"zwfw/bff"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "zwfw:", err)
		os.Exit(1)
	}
}

func run() error {
	printTable := flag.Bool("print-config-table", false, "print README.md's configuration table (from the declarations in bff/config_table.go) and exit")
	writeTable := flag.String("write-config-table", "", "rewrite the configuration table in this README file and exit")
	staff := flag.String("create-staff", "", "create this staff account (password from ZWFW_STAFF_PASSWORD) with the configured database, and exit")
	staffName := flag.String("staff-name", "", "display name of the -create-staff account (default the username)")
	staffRoles := flag.String("staff-roles", "admin", "roles of the -create-staff account: admin, staff, hotline, supervisor (comma-separated)")
	flag.Parse()
	switch {
	case *printTable:
		fmt.Print(bff.ConfigTableMarkdown())
		return nil
	case *writeTable != "":
		return writeConfigTable(*writeTable)
	}
	cfg, err := bff.LoadConfig(os.Getenv)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: parseLevel(cfg.LogLevel)}))
	slog.SetDefault(log)
	if *staff != "" {
		return createStaff(cfg, log, *staff, *staffName, *staffRoles)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	app, err := bff.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		_ = app.Shutdown(context.Background())
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	app.Listening("http://" + ln.Addr().String())
	fmt.Fprint(os.Stderr, app.Banner())

	served := make(chan error, 1)
	go func() { served <- app.Serve(ln) }()
	select {
	case err = <-served:
	case <-ctx.Done():
		log.Info("shutting down", "timeout", cfg.ShutdownTimeout.String())
	}
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if serr := app.Shutdown(sctx); serr != nil && err == nil {
		err = serr
	}
	log.Info("stopped")
	return err
}

// writeConfigTable replaces the configuration table between README's markers.
func writeConfigTable(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	updated, _, err := bff.ReplaceConfigTable(string(b))
	if err != nil {
		return err
	}
	return os.WriteFile(path, []byte(updated), 0o644)
}

func parseLevel(s string) slog.Level {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}
