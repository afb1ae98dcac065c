// Package testbed starts throwaway PostgreSQL and Kamailio servers and the
// kamreg binary, registers sipp phones, all on loopback, and holds what
// the tests share (a throwaway CA, waits with deadlines), for the
// integration tests, the demo and the benchmarks. Every process it starts
// is stopped by Close.
package testbed
