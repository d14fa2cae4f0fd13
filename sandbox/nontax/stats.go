package nontax

// EndpointStats counts the requests one API endpoint received.
type EndpointStats struct {
	Calls   int `json:"calls"`   // every request that reached the endpoint
	Refused int `json:"refused"` // refused by the gateway (signature, timestamp, nonce, app key)
	Faulted int `json:"faulted"` // hit by an injected fault
}

// Stats are the gateway's counters.
type Stats struct {
	// Endpoints by route, e.g. "GET /api/v1/notices/{payment_code}".
	Endpoints map[string]EndpointStats `json:"endpoints"`
	// Paths by request, e.g. "GET /api/v1/notices/35010026..." (with ?query when any).
	Paths map[string]int `json:"paths"`
}

// count updates endpoint's counters and, when path is not empty, the path count.
func (s *Server) count(endpoint, path string, update func(*EndpointStats)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.stats[endpoint]
	if !ok {
		st = &EndpointStats{}
		s.stats[endpoint] = st
	}
	update(st)
	if path != "" {
		s.pathCalls[path]++
	}
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := Stats{Endpoints: map[string]EndpointStats{}, Paths: map[string]int{}}
	for k, v := range s.stats {
		out.Endpoints[k] = *v
	}
	for k, v := range s.pathCalls {
		out.Paths[k] = v
	}
	return out
}

// Calls is how many requests reached endpoint ("POST /api/v1/notices/{payment_code}/payments").
func (s *Server) Calls(endpoint string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.stats[endpoint]; ok {
		return st.Calls
	}
	return 0
}

// ResetStats zeroes the counters.
func (s *Server) ResetStats() {
	s.mu.Lock()
	clear(s.stats)
	clear(s.pathCalls)
	s.mu.Unlock()
}
