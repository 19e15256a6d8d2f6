package idp

import (
	"fmt"
	"net/http/httptest"
)

// NewTestServer starts an httptest server serving a new Provider whose
// issuer is the server's URL (o.Issuer is ignored). Close the server when
// done. Register clients whose redirect URIs are only known later with
// AddClient.
func NewTestServer(o Options) (*Provider, *httptest.Server, error) {
	srv := httptest.NewUnstartedServer(nil)
	o.Issuer = "http://" + srv.Listener.Addr().String()
	p, err := New(o)
	if err != nil {
		srv.Listener.Close()
		return nil, nil, fmt.Errorf("idp: test server: %w", err)
	}
	srv.Config.Handler = p.Handler()
	srv.Start()
	return p, srv, nil
}
