// go-mint: the Go crypto/x509 reference for bench/restart-entries.ts. It mints N X.509-SVIDs
// (fresh P-256 key, URI SAN, signed by a P-256 intermediate, key exported as PKCS#8) on every
// core, as a Go agent on this machine could, and prints the elapsed and CPU milliseconds.
//
//	go-mint -n 5000
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"flag"
	"fmt"
	"math/big"
	"net/url"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"
)

func main() {
	n := flag.Int("n", 5000, "SVIDs to mint")
	flag.Parse()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	check(err)
	now := time.Now()
	caTemplate := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{Organization: []string{"meshid bench"}},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDer, err := x509.CreateCertificate(rand.Reader, caTemplate, caTemplate, &caKey.PublicKey, caKey)
	check(err)
	ca, err := x509.ParseCertificate(caDer)
	check(err)

	started := time.Now()
	work := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < runtime.NumCPU(); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
				check(err)
				id, _ := url.Parse(fmt.Sprintf("spiffe://example.org/workload-%d", i))
				serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
				check(err)
				template := &x509.Certificate{
					SerialNumber:          serial,
					NotBefore:             now.Add(-10 * time.Second),
					NotAfter:              now.Add(time.Hour),
					URIs:                  []*url.URL{id},
					KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageKeyAgreement,
					ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
					BasicConstraintsValid: true,
				}
				_, err = x509.CreateCertificate(rand.Reader, template, ca, &key.PublicKey, caKey)
				check(err)
				_, err = x509.MarshalPKCS8PrivateKey(key)
				check(err)
			}
		}()
	}
	for i := 0; i < *n; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	var usage syscall.Rusage
	check(syscall.Getrusage(syscall.RUSAGE_SELF, &usage))
	cpu := time.Duration(usage.Utime.Nano() + usage.Stime.Nano())
	// elapsed ms, then the CPU ms of the whole process (user + system, every thread).
	fmt.Printf("%.1f %.1f\n", float64(time.Since(started).Microseconds())/1000, float64(cpu.Microseconds())/1000)
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
