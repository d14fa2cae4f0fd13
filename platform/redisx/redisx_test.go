package redisx

import "testing"

func TestParseURL(t *testing.T) {
	cases := []struct {
		in     string
		addrs  []string
		db     int
		master string
		pass   string
		tls    bool
		bad    bool
	}{
		{in: "redis://127.0.0.1:6379/0", addrs: []string{"127.0.0.1:6379"}},
		{in: "redis://:secret@cache/2", addrs: []string{"cache:6379"}, db: 2, pass: "secret"},
		{in: "redis://h1:7000,h2:7001,h3:7002", addrs: []string{"h1:7000", "h2:7001", "h3:7002"}},
		{in: "redis://s1:26379,s2:26379/1?master=mymaster", addrs: []string{"s1:26379", "s2:26379"}, db: 1, master: "mymaster"},
		{in: "rediss://cache.example:6380", addrs: []string{"cache.example:6380"}, tls: true},
		{in: "http://cache:6379", bad: true},
		{in: "redis:///0", bad: true},
		{in: "redis://cache/notanumber", bad: true},
	}
	for _, c := range cases {
		o, err := ParseURL(c.in)
		if c.bad {
			if err == nil {
				t.Errorf("%s: accepted", c.in)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if len(o.Addrs) != len(c.addrs) || o.DB != c.db || o.MasterName != c.master || o.Password != c.pass || (o.TLSConfig != nil) != c.tls {
			t.Errorf("%s: got %+v", c.in, o)
			continue
		}
		for i := range c.addrs {
			if o.Addrs[i] != c.addrs[i] {
				t.Errorf("%s: addrs %v", c.in, o.Addrs)
			}
		}
	}
}

func TestKeys(t *testing.T) {
	if got := Keys("zwfw:").Key("user", "u_1"); got != "zwfw:user:u_1" {
		t.Fatal(got)
	}
}
