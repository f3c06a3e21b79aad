// k8s-apiserver: the API server of the test/k8s suites. It runs the real kube-apiserver of
// k8s.io/kubernetes (its chain includes the apiextensions server that serves CRDs and custom
// resources, and the built-in kinds: Namespaces, Events, Leases, RBAC, ServiceAccounts with
// TokenRequest) on an embedded etcd, both on loopback ports, with
//   - TLS from a CA made for the data directory (its certificate goes into the kubeconfig),
//   - authentication by a static token (the admin, group system:masters) and by ServiceAccount
//     tokens (TokenRequest), authorization by RBAC (so least-privilege manifests can be proven),
//   - an audit log of every request (who, verb, resource) for counting requests.
//
// Usage: k8s-apiserver --data-dir DIR [--port N] [--etcd-port N]
//        k8s-apiserver kubectl ARGS…   (kubectl of the same release)
// Everything lives in DIR; run it again with the same DIR (a restart) and it reuses the data, the
// ports, the certificates and the token. When the server is ready it prints one JSON line on stdout:
// {"ready":true,"server":"https://127.0.0.1:PORT","kubeconfig":"DIR/kubeconfig","token":"…",
//  "auditLog":"DIR/audit.log","etcd":"http://127.0.0.1:PORT"}. SIGTERM/SIGINT stop it.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "kubectl" {
		runKubectl(os.Args[2:])
	}
	dataDir := flag.String("data-dir", "", "directory of the etcd data, certificates, kubeconfig and audit log (required)")
	port := flag.Int("port", 0, "secure port of the API server (0: the one of an earlier run, else a free one)")
	etcdPort := flag.Int("etcd-port", 0, "client port of etcd (0: the one of an earlier run, else a free one)")
	verbosity := flag.String("v", "0", "kube-apiserver log verbosity (stderr)")
	flag.Parse()
	if *dataDir == "" {
		fail(fmt.Errorf("--data-dir is required"))
	}
	dir, err := filepath.Abs(*dataDir)
	if err != nil {
		fail(err)
	}
	st, err := loadOrCreateState(dir, *port, *etcdPort)
	if err != nil {
		fail(err)
	}
	etcd, err := startEtcd(dir, st)
	if err != nil {
		fail(fmt.Errorf("etcd: %w", err))
	}
	defer etcd.Close()

	served := make(chan error, 1)
	go func() { served <- runAPIServer(dir, st, *verbosity) }()
	if err := waitReady(dir, st, served); err != nil {
		etcd.Close()
		fail(err)
	}
	ready, _ := json.Marshal(map[string]any{
		"ready":      true,
		"server":     st.serverURL(),
		"kubeconfig": filepath.Join(dir, "kubeconfig"),
		"token":      st.Token,
		"auditLog":   filepath.Join(dir, "audit.log"),
		"etcd":       st.etcdURL(),
		"pid":        os.Getpid(),
	})
	fmt.Println(string(ready))
	if err := <-served; err != nil {
		etcd.Close()
		fail(fmt.Errorf("kube-apiserver: %w", err))
	}
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "k8s-apiserver: %v\n", err)
	os.Exit(1)
}
