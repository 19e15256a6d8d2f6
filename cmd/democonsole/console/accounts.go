package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
)

// accounts is the demo cloud's account API, the target of Livery's "http"
// provisioner: POST /_cloud/accounts with an Idempotency-Key header and a
// JSON body {"domain_name": ...}. The same key always yields the same
// account (200); a new account answers 201; a name held by another key
// answers 409. Callers authenticate with "Authorization: Bearer <token>".
// Accounts live in memory.
type accounts struct {
	token  string
	mu     sync.Mutex
	byKey  map[string]account
	byName map[string]string // lower-case name → idempotency key
}

type account struct {
	DomainID   string `json:"domain_id"`
	DomainName string `json:"domain_name"`
}

func newAccounts(token string) *accounts {
	return &accounts{token: token, byKey: map[string]account{}, byName: map[string]string{}}
}

func (a *accounts) handleCreate(w http.ResponseWriter, r *http.Request) {
	got := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if a.token == "" || subtle.ConstantTimeCompare([]byte(got), []byte(a.token)) != 1 {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthorized"})
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if key == "" || len(key) > 128 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "Idempotency-Key header required"})
		return
	}
	var req struct {
		DomainName string `json:"domain_name"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&req); err != nil || req.DomainName == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "domain_name required"})
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if acct, ok := a.byKey[key]; ok {
		writeJSON(w, http.StatusOK, acct)
		return
	}
	name := strings.ToLower(req.DomainName)
	if _, taken := a.byName[name]; taken {
		writeJSON(w, http.StatusConflict, map[string]string{"error": "account name exists"})
		return
	}
	var id [16]byte
	_, _ = rand.Read(id[:])
	acct := account{DomainID: hex.EncodeToString(id[:]), DomainName: req.DomainName}
	a.byKey[key], a.byName[name] = acct, key
	writeJSON(w, http.StatusCreated, acct)
}
