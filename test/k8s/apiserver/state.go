// The data directory: ports, the admin token and the key material, made on the first run and kept,
// so a restart with the same directory is the same server to its clients.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

type state struct {
	Port     int    `json:"port"`
	EtcdPort int    `json:"etcdPort"`
	PeerPort int    `json:"peerPort"`
	Token    string `json:"token"`
}

func (s state) serverURL() string { return fmt.Sprintf("https://127.0.0.1:%d", s.Port) }
func (s state) etcdURL() string   { return fmt.Sprintf("http://127.0.0.1:%d", s.EtcdPort) }

func loadOrCreateState(dir string, port, etcdPort int) (state, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return state{}, err
	}
	path := filepath.Join(dir, "state.json")
	var st state
	if data, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(data, &st); err != nil {
			return state{}, fmt.Errorf("%s: %w", path, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return state{}, err
	}
	if err := fillState(&st, port, etcdPort); err != nil {
		return state{}, err
	}
	data, _ := json.MarshalIndent(st, "", "  ")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return state{}, err
	}
	if err := writeKeyMaterial(dir); err != nil {
		return state{}, err
	}
	return st, writeConfigFiles(dir, st)
}

func fillState(st *state, port, etcdPort int) error {
	var err error
	if port != 0 {
		st.Port = port
	}
	if etcdPort != 0 {
		st.EtcdPort = etcdPort
	}
	for _, p := range []*int{&st.Port, &st.EtcdPort, &st.PeerPort} {
		if *p == 0 {
			if *p, err = freePort(); err != nil {
				return err
			}
		}
	}
	if st.Token == "" {
		b := make([]byte, 24)
		if _, err := rand.Read(b); err != nil {
			return err
		}
		st.Token = hex.EncodeToString(b)
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// writeKeyMaterial makes, once: a CA, the serving certificate it signs (127.0.0.1, localhost) and
// the ServiceAccount token signing key.
func writeKeyMaterial(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, "serving.crt")); err == nil {
		return nil
	}
	caKey, caCert, caDER, err := makeCA()
	if err != nil {
		return err
	}
	servingKey, servingDER, err := makeServingCert(caKey, caCert)
	if err != nil {
		return err
	}
	saKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	files := map[string][]byte{
		"ca.crt":      pemBlock("CERTIFICATE", caDER),
		"serving.crt": pemBlock("CERTIFICATE", servingDER),
		"serving.key": mustKeyPEM(servingKey),
		"sa.key":      mustKeyPEM(saKey),
	}
	for _, name := range []string{"ca.crt", "serving.key", "sa.key", "serving.crt"} { // serving.crt last: it marks completion
		if err := os.WriteFile(filepath.Join(dir, name), files[name], 0o600); err != nil {
			return err
		}
	}
	return nil
}

func makeCA() (*ecdsa.PrivateKey, *x509.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "sergo-wasm test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return key, cert, der, err
}

func makeServingCert(caKey *ecdsa.PrivateKey, ca *x509.Certificate) (*ecdsa.PrivateKey, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "kube-apiserver"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(10 * 365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost", "kubernetes.default.svc"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	return key, der, err
}

func pemBlock(kind string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der})
}

func mustKeyPEM(key *ecdsa.PrivateKey) []byte {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		panic(err)
	}
	return pemBlock("EC PRIVATE KEY", der)
}

// writeConfigFiles writes what depends on the state: the token file, the audit policy, the kubeconfig.
func writeConfigFiles(dir string, st state) error {
	ca, err := os.ReadFile(filepath.Join(dir, "ca.crt"))
	if err != nil {
		return err
	}
	files := map[string]string{
		"tokens.csv": fmt.Sprintf("%s,admin,admin,system:masters\n", st.Token),
		// Metadata of every request once it is answered: who, verb, resource, status.
		"audit-policy.yaml": "apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n- level: Metadata\n",
		"kubeconfig":        kubeconfig(st, ca),
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			return err
		}
	}
	return nil
}

func kubeconfig(st state, ca []byte) string {
	doc := map[string]any{
		"apiVersion":      "v1",
		"kind":            "Config",
		"clusters":        []any{map[string]any{"name": "test", "cluster": map[string]any{"server": st.serverURL(), "certificate-authority-data": ca}}},
		"users":           []any{map[string]any{"name": "admin", "user": map[string]any{"token": st.Token}}},
		"contexts":        []any{map[string]any{"name": "admin@test", "context": map[string]any{"cluster": "test", "user": "admin"}}},
		"current-context": "admin@test",
	}
	data, _ := json.MarshalIndent(doc, "", "  ") // JSON is YAML; []byte fields become base64, as kubeconfig wants
	return string(data) + "\n"
}
