package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"net"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/spiffetls"
	"github.com/spiffe/go-spiffe/v2/spiffetls/tlsconfig"
	"github.com/spiffe/go-spiffe/v2/workloadapi"
)

// newSource opens an X509Source (one FetchX509SVID stream kept open; go-spiffe swaps in every
// update it pushes) and reports each SVID it holds, so a test can see rotations happen.
func newSource(ctx context.Context) (*workloadapi.X509Source, error) {
	source, err := workloadapi.NewX509Source(ctx)
	if err != nil {
		return nil, fmt.Errorf("workloadapi.NewX509Source: %w", err)
	}
	reportSVID(source)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-source.Updated():
				reportSVID(source)
			}
		}
	}()
	return source, nil
}

func reportSVID(source *workloadapi.X509Source) {
	svid, err := source.GetX509SVID()
	if err != nil {
		emit(map[string]any{"event": "svid-error", "error": err.Error()})
		return
	}
	emit(map[string]any{"event": "svid", "spiffeId": svid.ID.String(), "serial": serial(svid.Certificates[0])})
}

func serial(certificate *x509.Certificate) string { return certificate.SerialNumber.Text(16) }

func parseID(flagName, value string) (spiffeid.ID, error) {
	id, err := spiffeid.FromString(value)
	if err != nil {
		return spiffeid.ID{}, fmt.Errorf("-%s %q: %w", flagName, value, err)
	}
	return id, nil
}

// parseWithSource parses a mode's flags, the peer ID it authorizes (-authorize), and opens the
// X509Source both sides of a handshake take their SVID and bundle from.
func parseWithSource(ctx context.Context, flags *flag.FlagSet, args []string, authorize *string) (spiffeid.ID, *workloadapi.X509Source, error) {
	if err := flags.Parse(args); err != nil {
		return spiffeid.ID{}, nil, err
	}
	peerID, err := parseID("authorize", *authorize)
	if err != nil {
		return spiffeid.ID{}, nil, err
	}
	source, err := newSource(ctx)
	if err != nil {
		return spiffeid.ID{}, nil, err
	}
	return peerID, source, nil
}

// runServer: an mTLS echo server that accepts only the client ID it is told to authorize
// (tlsconfig.AuthorizeID, checked by go-spiffe's verifier during the handshake).
func runServer(ctx context.Context, args []string) error {
	flags := flag.NewFlagSet("server", flag.ContinueOnError)
	listen := flags.String("listen", "127.0.0.1:0", "address to listen on")
	authorize := flags.String("authorize", "", "the client SPIFFE ID to accept")
	clientID, source, err := parseWithSource(ctx, flags, args, authorize)
	if err != nil {
		return err
	}
	defer source.Close()
	listener, err := spiffetls.ListenWithMode(ctx, "tcp", *listen, spiffetls.MTLSServerWithSource(tlsconfig.AuthorizeID(clientID), source))
	if err != nil {
		return fmt.Errorf("spiffetls.ListenWithMode: %w", err)
	}
	go func() {
		<-ctx.Done()
		listener.Close()
	}()
	emit(map[string]any{"event": "listening", "address": listener.Addr().String()})
	for {
		conn, err := listener.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("accept: %w", err)
		}
		go serveEcho(conn)
	}
}

func serveEcho(conn net.Conn) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		// A refused client ends here: go-spiffe's verifier rejected its certificate.
		emit(map[string]any{"event": "refused", "error": err.Error()})
		return
	}
	peer, err := spiffetls.PeerIDFromConn(conn)
	if err != nil {
		emit(map[string]any{"event": "refused", "error": err.Error()})
		return
	}
	emit(map[string]any{"event": "served", "peer": peer.String()})
	_, _ = fmt.Fprintf(conn, "echo %s", line)
}

// runClient dials the server again and again (a new handshake each time, every -interval) with
// its current SVID, authorizing the server by ID, and reports each attempt; -once tries once and
// exits 1 if that failed.
func runClient(ctx context.Context, args []string) error {
	flags := flag.NewFlagSet("client", flag.ContinueOnError)
	connect := flags.String("connect", "", "server address")
	authorize := flags.String("authorize", "", "the server SPIFFE ID to accept")
	interval := flags.Duration("interval", 50*time.Millisecond, "pause between handshakes")
	once := flags.Bool("once", false, "one handshake, then exit (1 if it failed)")
	serverID, source, err := parseWithSource(ctx, flags, args, authorize)
	if err != nil {
		return err
	}
	defer source.Close()
	for attempt := 1; ; attempt++ {
		err := handshake(ctx, *connect, serverID, source, attempt)
		if *once {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(*interval):
		}
	}
}

func handshake(ctx context.Context, address string, serverID spiffeid.ID, source *workloadapi.X509Source, attempt int) error {
	report := func(err error) error {
		emit(map[string]any{"event": "handshake", "attempt": attempt, "ok": false, "error": err.Error()})
		return err
	}
	dialCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := spiffetls.DialWithMode(dialCtx, "tcp", address, spiffetls.MTLSClientWithSource(tlsconfig.AuthorizeID(serverID), source))
	if err != nil {
		return report(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	// With TLS 1.3 the server judges the client certificate after the client's handshake is
	// done, so only the echo proves the server accepted this client.
	if _, err := fmt.Fprintf(conn, "ping %d\n", attempt); err != nil {
		return report(err)
	}
	reply, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return report(fmt.Errorf("no echo: %w", err))
	}
	tlsConn, ok := conn.(interface{ ConnectionState() tls.ConnectionState })
	serverSerial := ""
	if ok {
		if peers := tlsConn.ConnectionState().PeerCertificates; len(peers) > 0 {
			serverSerial = serial(peers[0])
		}
	}
	own, err := source.GetX509SVID()
	if err != nil {
		return report(err)
	}
	emit(map[string]any{"event": "handshake", "attempt": attempt, "ok": true, "reply": reply, "serverSerial": serverSerial, "clientSerial": serial(own.Certificates[0])})
	return nil
}
