// Command go-spiffe-peer is meshid's interop peer: a workload written with go-spiffe v2, the
// SPIFFE library most Go workloads use. It finds the agent the way users configure it, through
// SPIFFE_ENDPOINT_SOCKET=unix:///path (go-spiffe's default address source), and prints one JSON
// object per line on stdout so the tests (test/interop/*.test.ts) can read what it saw.
//
//	go-spiffe-peer server  -listen 127.0.0.1:0 -authorize spiffe://td/client
//	go-spiffe-peer client  -connect ADDR -authorize spiffe://td/server [-interval 50ms] [-once]
//	go-spiffe-peer jwt     -audience vault [-spiffe-id ID]
//	go-spiffe-peer bundles
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) < 2 {
		fail("usage: go-spiffe-peer server|client|jwt|bundles [flags]")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	args := os.Args[2:]
	var err error
	switch os.Args[1] {
	case "server":
		err = runServer(ctx, args)
	case "client":
		err = runClient(ctx, args)
	case "jwt":
		err = runJWT(ctx, args)
	case "bundles":
		err = runBundles(ctx, args)
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fail(err.Error())
	}
}

// emit writes one JSON line; the tests parse stdout line by line.
func emit(event map[string]any) {
	line, err := json.Marshal(event)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(line))
}

func fail(message string) {
	emit(map[string]any{"event": "error", "error": message})
	os.Exit(1)
}
