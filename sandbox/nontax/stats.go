package nontax

import "zwfw/sandbox/gwserver"

// EndpointStats counts the requests one API endpoint received.
type EndpointStats = gwserver.EndpointStats

// Stats are the gateway's counters: endpoints by route, e.g.
// "GET /api/v1/notices/{payment_code}", and paths by request, e.g.
// "GET /api/v1/notices/35010026..." (with ?query when any).
type Stats = gwserver.Stats

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats { return s.gw.Stats() }

// Calls is how many requests reached endpoint ("POST /api/v1/notices/{payment_code}/payments").
func (s *Server) Calls(endpoint string) int { return s.gw.Calls(endpoint) }

// ResetStats zeroes the counters.
func (s *Server) ResetStats() { s.gw.ResetStats() }
