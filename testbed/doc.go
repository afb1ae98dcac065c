// Package testbed starts throwaway PostgreSQL and Kamailio servers, and
// registers sipp phones, all on loopback, for the integration tests, the
// demo and the benchmarks. Every process it starts is stopped by Close.
package testbed
