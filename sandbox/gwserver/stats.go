package gwserver

// EndpointStats counts the requests one gateway endpoint received.
type EndpointStats struct {
	Calls   int `json:"calls"`   // every request that reached the endpoint
	Refused int `json:"refused"` // refused by the gateway (signature, timestamp, nonce, app key)
	Faulted int `json:"faulted"` // hit by an injected fault
}

// Stats are the gateway's counters.
type Stats struct {
	// Endpoints by route, e.g. "GET /api/catalog/items/{code}".
	Endpoints map[string]EndpointStats `json:"endpoints"`
	// Paths by request, e.g. "GET /api/catalog/items/113501000036011000X00001" (with ?query when any).
	Paths map[string]int `json:"paths"`
}

// count updates endpoint's counters and, when path is not empty, the path count.
func (g *Gateway) count(endpoint, path string, update func(*EndpointStats)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.countLocked(endpoint, path, update)
}

func (g *Gateway) countLocked(endpoint, path string, update func(*EndpointStats)) {
	st, ok := g.stats[endpoint]
	if !ok {
		st = &EndpointStats{}
		g.stats[endpoint] = st
	}
	update(st)
	if path != "" {
		g.pathCalls[path]++
	}
}

// Stats returns a copy of the counters.
func (g *Gateway) Stats() Stats {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := Stats{Endpoints: map[string]EndpointStats{}, Paths: map[string]int{}}
	for k, v := range g.stats {
		out.Endpoints[k] = *v
	}
	for k, v := range g.pathCalls {
		out.Paths[k] = v
	}
	return out
}

// Calls is how many requests reached endpoint ("GET /api/catalog/items/{code}").
func (g *Gateway) Calls(endpoint string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if st, ok := g.stats[endpoint]; ok {
		return st.Calls
	}
	return 0
}

// PathCalls is how many requests were made to one path below the base
// path, with its raw query if any: PathCalls("GET", "/api/catalog/items?q=x").
func (g *Gateway) PathCalls(method, pathAndQuery string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.pathCalls[method+" "+pathAndQuery]
}

// ResetStats zeroes the counters.
func (g *Gateway) ResetStats() {
	g.mu.Lock()
	clear(g.stats)
	clear(g.pathCalls)
	g.mu.Unlock()
}
