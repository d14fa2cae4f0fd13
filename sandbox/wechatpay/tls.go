package wechatpay

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// StartTLS serves the fake's whole handler on a TLS listener at addr
// ("127.0.0.1:0" picks a free port) that requires a client certificate
// issued by the fake's CA, as api.mch.weixin.qq.com does for /secapi/. It
// returns the base URL ("https://127.0.0.1:port") to send /secapi/ calls
// to. Clients trust the server through RootCAs. One listener per Server;
// Close stops it.
func (s *Server) StartTLS(addr string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return "", errors.New("wechatpay: server closed")
	}
	if s.tlsServer != nil {
		return "", errors.New("wechatpay: TLS listener already started")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	cfg := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{s.pki.serverCert},
		ClientCAs:    s.pki.roots,
		ClientAuth:   tls.RequireAndVerifyClientCert,
	}
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug), // failed handshakes are expected in tests
	}
	s.tlsServer = srv
	go func() {
		if err := srv.Serve(tls.NewListener(ln, cfg)); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("wechatpay TLS listener stopped", "err", err)
		}
	}()
	return "https://" + ln.Addr().String(), nil
}

// requireClientCert lets through only requests that came over mutual TLS
// with this merchant's certificate (CN = mch_id). Plain-HTTP requests, which
// the real API would refuse at the handshake, get 403 and a FAIL message.
func (s *Server) requireClientCert(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || r.TLS.VerifiedChains[0][0].Subject.CommonName != s.mchID {
			s.log.Warn("wechatpay /secapi/ request without the merchant certificate", "path", r.URL.Path)
			writeMessage(w, http.StatusForbidden, Message{
				{"return_code", "FAIL"},
				{"return_msg", "证书验证失败：该接口需要使用商户API证书(双向TLS)"},
			})
			return
		}
		next(w, r)
	}
}
