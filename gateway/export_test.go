package gateway

// ReadyTimeout exposes readyTimeout to the external tests of this package.
const ReadyTimeout = readyTimeout
