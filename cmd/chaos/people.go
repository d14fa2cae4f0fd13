package main

import (
	"context"
	"fmt"
	"sync/atomic"

	"zwfw/pii"
)

// person is someone using zwfw: a citizen (or the admin) with its own
// address behind the trusted proxy, so per-IP limits see each as zwfw
// would see phones on different networks.
type person struct {
	d        *deployment
	t        *tally
	name     string // WeChat login name (test:<name>)
	realName string
	idNumber string
	ip       string
	token    string
	userID   string
}

var personSeq atomic.Int64

// newAddress is a distinct client address per person.
func newAddress() string {
	n := personSeq.Add(1)
	return fmt.Sprintf("10.%d.%d.%d", (n>>16)&255, (n>>8)&255, n&255)
}

// api calls zwfw's API as p; key, when not empty, is the Idempotency-Key.
func (p *person) api(ctx context.Context, method, path string, body any, key string) reply {
	return p.d.call(ctx, p.t, p.req(method, path, body, key))
}

func (p *person) req(method, path string, body any, key string) request {
	r := jsonRequest(method, p.d.base+"/api/v1"+path, body).with("X-Forwarded-For", p.ip)
	if p.token != "" {
		r = r.with("Authorization", "Bearer "+p.token)
	}
	if key != "" {
		r = r.with("Idempotency-Key", key)
	}
	return r
}

// call sends one request to zwfw and records its answer in t.
func (d *deployment) call(ctx context.Context, t *tally, rq request) reply {
	r := d.do(ctx, rq)
	t.record(r)
	return r
}

// want is api that must answer status.
func (p *person) want(ctx context.Context, status int, method, path string, body any, key string) (reply, error) {
	r := p.api(ctx, method, path, body, key)
	if r.err != nil || r.status != status {
		return r, fmt.Errorf("%s %s as %s: %s, want %d", method, path, p.name, r, status)
	}
	return r, nil
}

var (
	surnames = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗郑")
	given    = []rune("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂")
)

// citizen logs a new person in through WeChat and verifies its real name
// with a generated ID number (the sandbox registers an unknown valid
// number under the first name it is verified with).
func (d *deployment) citizen(ctx context.Context, t *tally, tag string) (*person, error) {
	n := personSeq.Add(1)
	first17 := fmt.Sprintf("350102%s%03d", birthDay(int(n)), 100+int(n)%900)
	check, _ := pii.IDNumberCheckChar(first17)
	p := &person{d: d, t: t, name: fmt.Sprintf("%s-%d", tag, n), ip: newAddress(),
		realName: string([]rune{surnames[int(n)%len(surnames)], given[int(n/7)%len(given)], given[int(n/3)%len(given)]}),
		idNumber: first17 + string(check)}
	if err := p.login(ctx); err != nil {
		return nil, err
	}
	if _, err := p.want(ctx, 200, "POST", "/me/realname", map[string]string{"name": p.realName, "id_number": p.idNumber}, ""); err != nil {
		return nil, err
	}
	return p, nil
}

// birthDay is a date between 1960 and 2000 derived from n, as YYYYMMDD.
func birthDay(n int) string {
	return fmt.Sprintf("%04d%02d%02d", 1960+n%40, 1+n%12, 1+n%28)
}

func (p *person) login(ctx context.Context) error {
	r, err := p.want(ctx, 200, "POST", "/auth/wechat", map[string]string{"code": "test:" + p.name}, "")
	if err != nil {
		return err
	}
	var v struct {
		Access string `json:"access_token"`
		User   struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	if err := r.json(&v); err != nil {
		return err
	}
	p.token, p.userID = v.Access, v.User.ID
	return nil
}

// admin signs the staff account in.
func (d *deployment) admin(ctx context.Context, t *tally) (*person, error) {
	p := &person{d: d, t: t, name: adminUser, ip: newAddress()}
	r, err := p.want(ctx, 200, "POST", "/auth/staff", map[string]string{"username": adminUser, "password": adminPassword}, "")
	if err != nil {
		return nil, err
	}
	var v struct {
		Access string `json:"access_token"`
	}
	if err := r.json(&v); err != nil {
		return nil, err
	}
	p.token = v.Access
	return p, nil
}
