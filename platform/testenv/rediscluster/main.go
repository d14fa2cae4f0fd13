// Command rediscluster runs a command against a private three-master Redis
// Cluster: it starts redis-server processes in cluster mode on loopback
// ports in a temporary directory, runs the command with REDIS_URL pointing
// at every master (go-redis then uses a cluster client) and
// ZWFW_TEST_REDIS=cluster (tests fail rather than fall back), and tears the
// cluster down afterwards, whatever the command's outcome.
//
//	go run ./platform/testenv/rediscluster -- go test ./bff/...
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"zwfw/platform/testenv"
)

func main() {
	masters := flag.Int("masters", 3, "how many masters")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: rediscluster [-masters 3] -- command args...")
		os.Exit(2)
	}
	os.Exit(run(*masters, flag.Args()))
}

func run(masters int, args []string) int {
	dir, err := os.MkdirTemp("", "zwfw-redis-cluster-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "rediscluster:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	cluster, err := testenv.StartRedisCluster(dir, masters)
	if err != nil {
		fmt.Fprintln(os.Stderr, "rediscluster:", err)
		return 1
	}
	defer cluster.Stop()
	fmt.Fprintf(os.Stderr, "rediscluster: %d masters at %s\n", masters, cluster.URL())

	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), "REDIS_URL="+cluster.URL(), "ZWFW_TEST_REDIS=cluster")
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "rediscluster:", err)
		return 1
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		for s := range sig {
			_ = cmd.Process.Signal(s) // the cluster is torn down when the command ends
		}
	}()
	err = cmd.Wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "rediscluster:", err)
		return 1
	}
	return 0
}
