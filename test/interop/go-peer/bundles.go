package main

import (
	"context"
	"encoding/pem"
	"flag"
	"fmt"

	"github.com/spiffe/go-spiffe/v2/workloadapi"
)

// runBundles calls FetchX509Bundles (X509BundlesResponse: crl = 1, bundles = 2 in the standard)
// and prints each trust domain's roots as PEM.
func runBundles(ctx context.Context, args []string) error {
	if err := flag.NewFlagSet("bundles", flag.ContinueOnError).Parse(args); err != nil {
		return err
	}
	set, err := workloadapi.FetchX509Bundles(ctx)
	if err != nil {
		return fmt.Errorf("workloadapi.FetchX509Bundles: %w", err)
	}
	bundles := map[string]string{}
	for _, bundle := range set.Bundles() {
		roots := ""
		for _, authority := range bundle.X509Authorities() {
			roots += string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: authority.Raw}))
		}
		bundles[bundle.TrustDomain().IDString()] = roots
	}
	emit(map[string]any{"event": "bundles", "bundles": bundles})
	return nil
}
