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
// GET /_cloud/accounts/{domain_id} answers an account with its status
// (frozen, is a partner), 404 for an unknown one. Accounts live in memory.
type accounts struct {
	token  string
	mu     sync.Mutex
	byKey  map[string]account
	byName map[string]string  // lower-case name → idempotency key
	byID   map[string]Account // every account, with its status
}

type account struct {
	DomainID   string `json:"domain_id"`
	DomainName string `json:"domain_name"`
}

// Account is a cloud account with its status, as GET answers it.
type Account struct {
	DomainID   string `json:"domain_id"`
	DomainName string `json:"domain_name"`
	Frozen     bool   `json:"frozen"`
	Partner    bool   `json:"partner"`
}

func newAccounts(token string, existing []Account) *accounts {
	a := &accounts{token: token, byKey: map[string]account{}, byName: map[string]string{}, byID: map[string]Account{}}
	for _, e := range existing {
		a.byID[e.DomainID] = e
		a.byName[strings.ToLower(e.DomainName)] = "existing:" + e.DomainID
	}
	return a
}

func (a *accounts) authorized(w http.ResponseWriter, r *http.Request) bool {
	got := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if a.token == "" || subtle.ConstantTimeCompare([]byte(got), []byte(a.token)) != 1 {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthorized"})
		return false
	}
	return true
}

func (a *accounts) handleGet(w http.ResponseWriter, r *http.Request) {
	if !a.authorized(w, r) {
		return
	}
	a.mu.Lock()
	acct, ok := a.byID[r.PathValue("id")]
	a.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such account"})
		return
	}
	writeJSON(w, http.StatusOK, acct)
}

func (a *accounts) handleCreate(w http.ResponseWriter, r *http.Request) {
	if !a.authorized(w, r) {
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
	a.byID[acct.DomainID] = Account{DomainID: acct.DomainID, DomainName: acct.DomainName}
	writeJSON(w, http.StatusCreated, acct)
}
