// Package clustertest holds no code: its tests run Livery's Redis users
// against the deployments it supports besides standalone Redis — a real
// three-master Redis Cluster, Redis Sentinel with a failover, and TLS with
// an ACL user (internal/testenv). On the cluster they fail on any CROSSSLOT
// error (testenv.SlotGuard): sessions and their back-channel
// indexes, verification codes, rate limits and risk control, access-key
// usage, and the pub/sub notices of the tenant table. The sign-in journey
// on a cluster is in gateway (TestSignInOnRedisCluster); the customer
// index's conformance suite runs on a cluster in tenants/redisindex.
package clustertest
