// etcd (embedded) and kube-apiserver (k8s.io/kubernetes/cmd/kube-apiserver/app, as the release
// binary runs it, from flags).
package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func startEtcd(dir string, st state) (*embed.Etcd, error) {
	cfg := embed.NewConfig()
	cfg.Name = "default"
	cfg.Dir = filepath.Join(dir, "etcd")
	client := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", st.EtcdPort)}
	peer := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", st.PeerPort)}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{client}, []url.URL{client}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peer}, []url.URL{peer}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.LogLevel = "error"
	// The page cache survives a killed process, which is the only crash the tests make.
	cfg.UnsafeNoFsync = true
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, err
	}
	select {
	case <-e.Server.ReadyNotify():
		return e, nil
	case err := <-e.Err():
		e.Close()
		return nil, err
	case <-time.After(60 * time.Second):
		e.Close()
		return nil, fmt.Errorf("not ready after 60 s")
	}
}

func runAPIServer(dir string, st state, verbosity string) error {
	in := func(name string) string { return filepath.Join(dir, name) }
	cmd := app.NewAPIServerCommand()
	cmd.SetArgs([]string{
		"--etcd-servers=" + st.etcdURL(),
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		// The lease reconciler publishes the address in the kubernetes Service and refuses loopback.
		"--endpoint-reconciler-type=none",
		fmt.Sprintf("--secure-port=%d", st.Port),
		"--cert-dir=" + in("certs"),
		"--tls-cert-file=" + in("serving.crt"),
		"--tls-private-key-file=" + in("serving.key"),
		"--client-ca-file=" + in("ca.crt"),
		"--token-auth-file=" + in("tokens.csv"),
		"--authorization-mode=RBAC",
		"--service-account-key-file=" + in("sa.key"),
		"--service-account-signing-key-file=" + in("sa.key"),
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-cluster-ip-range=10.96.0.0/16",
		"--audit-policy-file=" + in("audit-policy.yaml"),
		"--audit-log-path=" + in("audit.log"),
		"--audit-log-format=json",
		"--profiling=false",
		"--v=" + verbosity,
	})
	return cmd.Execute()
}

// waitReady polls /readyz as the admin until it answers 200 (or the server stops).
func waitReady(dir string, st state, served <-chan error) error {
	ca, err := os.ReadFile(filepath.Join(dir, "ca.crt"))
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	deadline := time.Now().Add(120 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-served:
			return fmt.Errorf("kube-apiserver stopped before it was ready: %v", err)
		default:
		}
		req, _ := http.NewRequest("GET", st.serverURL()+"/readyz", nil)
		req.Header.Set("Authorization", "Bearer "+st.Token)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("kube-apiserver not ready after 120 s")
}
