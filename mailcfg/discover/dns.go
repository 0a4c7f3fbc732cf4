package discover

import (
	"context"
	"errors"
	"net/url"
	"strings"

	"golang.org/x/net/publicsuffix"

	"infino.legal/mailbox/mailcfg"
)

// mxJob owns ranks rankMXTable…rankMXBaseISPDB: it looks up the MX hosts,
// matches them (most preferred first) against the table's MX patterns and
// otherwise asks the most preferred MX host's hoster for its autoconfig
// file and ISPDB entry.
func (e *engine) mxJob(ctx context.Context) {
	fail := func(from rank) {
		for r := from; r <= rankMXBaseISPDB; r++ {
			e.send(ctx, r, nil)
		}
	}
	hosts, err := e.lookupMX(ctx)
	if err != nil {
		fail(rankMXTable)
		return
	}
	for _, h := range hosts {
		p := e.table.ByMX(h)
		if p == nil {
			continue
		}
		rec := e.log.begin(mailcfg.SourceMX, "table:MX "+h+" → "+p.ID)
		s := p.SettingsForMX(e.addr, e.proto, h)
		s.Source = mailcfg.SourceMX
		err := e.checkAllowed(s)
		e.log.end(rec, err)
		if err != nil {
			continue
		}
		e.send(ctx, rankMXTable, &candidate{settings: s, provider: p})
		fail(rankMXSubAutoconfig)
		return
	}
	e.log.add(Attempt{Source: mailcfg.SourceMX, URL: "table:MX " + hosts[0], Err: "no bundled provider for the MX hosts"})
	e.send(ctx, rankMXTable, nil)

	first := hosts[0]
	base, err := publicsuffix.EffectiveTLDPlusOne(first)
	if err != nil || base == e.addr.Domain || strings.HasSuffix(e.addr.Domain, "."+base) {
		// The domain runs its own mail (or the MX is an address or a
		// public suffix): its own autoconfig was already asked.
		fail(rankMXSubAutoconfig)
		return
	}
	q := "?emailaddress=" + url.QueryEscape(e.addr.String())
	sub := ""
	if _, rest, ok := strings.Cut(first, "."); ok && strings.HasSuffix(rest, "."+base) {
		sub = rest
	}
	// ISPDB's entries for hosters' MX domains (your-server.de,
	// secureserver.net…) are in the table: they answer without the network.
	if sub != "" {
		go e.fetchJob(ctx, rankMXSubAutoconfig, mailcfg.SourceMX, "https://autoconfig."+sub+"/mail/config-v1.1.xml"+q)
		if !e.mxDomainFromTable(ctx, rankMXSubISPDB, sub) {
			go e.fetchJob(ctx, rankMXSubISPDB, mailcfg.SourceMX, ISPDBURL+sub)
		}
	} else {
		e.send(ctx, rankMXSubAutoconfig, nil)
		e.send(ctx, rankMXSubISPDB, nil)
	}
	go e.fetchJob(ctx, rankMXBaseAutoconfig, mailcfg.SourceMX, "https://autoconfig."+base+"/mail/config-v1.1.xml"+q)
	if !e.mxDomainFromTable(ctx, rankMXBaseISPDB, base) {
		e.fetchJob(ctx, rankMXBaseISPDB, mailcfg.SourceMX, ISPDBURL+base)
	}
}

// mxDomainFromTable answers rank r from the table's entry for an MX host's
// domain, as the ISPDB lookup of that domain would; false when the table
// has none (or the policy refuses its servers), and the network is asked.
func (e *engine) mxDomainFromTable(ctx context.Context, r rank, d string) bool {
	p := e.table.ByDomain(d)
	if p == nil {
		return false
	}
	rec := e.log.begin(mailcfg.SourceMX, "table:"+d+" → "+p.ID)
	s := p.Settings(e.addr, e.proto)
	s.Source = mailcfg.SourceMX
	err := e.checkAllowed(s)
	e.log.end(rec, err)
	if err != nil {
		return false
	}
	e.send(ctx, r, &candidate{settings: s, provider: p})
	return true
}

// lookupMX returns the MX host names, most preferred first (the resolver
// sorts them), lower-case without the final dot.
func (e *engine) lookupMX(ctx context.Context) ([]string, error) {
	rec := e.log.begin(mailcfg.SourceMX, "dns:MX "+e.addr.Domain)
	lctx, cancel := context.WithTimeout(ctx, LookupTimeout)
	mxs, err := e.resolver.LookupMX(lctx, e.addr.Domain+".")
	cancel()
	var hosts []string
	for _, mx := range mxs {
		h := strings.ToLower(strings.TrimSuffix(mx.Host, "."))
		if h == "" {
			continue // RFC 7505 null MX
		}
		if n, ok := mailcfg.NormalizeHost(h); ok {
			hosts = append(hosts, n)
		}
	}
	switch {
	case len(hosts) > 0:
		// Use the good records even if some were malformed.
		err = nil
	case err != nil:
	case len(mxs) > 0:
		err = errors.New("null MX: the domain accepts no mail")
	default:
		err = errors.New("no MX records")
	}
	e.log.end(rec, err)
	return hosts, err
}

// srvService is one RFC 6186/8314 service label.
type srvService struct {
	name  string
	proto mailcfg.Protocol
	sec   mailcfg.Security
}

// Services without "s" run on plaintext ports and are always used with
// STARTTLS, never unencrypted.
var (
	srvIMAP       = []srvService{{"imaps", mailcfg.IMAP, mailcfg.SecurityTLS}, {"imap", mailcfg.IMAP, mailcfg.SecurityStartTLS}}
	srvPOP3       = []srvService{{"pop3s", mailcfg.POP3, mailcfg.SecurityTLS}, {"pop3", mailcfg.POP3, mailcfg.SecurityStartTLS}}
	srvSubmission = []srvService{{"submissions", mailcfg.SMTP, mailcfg.SecurityTLS}, {"submission", mailcfg.SMTP, mailcfg.SecurityStartTLS}}
)

type srvAnswer struct {
	svc  srvService
	host string
	port int
	err  error
}

// srvJob owns rankSRV: it asks for all six services at once and settles
// as soon as the preference order allows (implicit TLS first, the
// preferred protocol first).
func (e *engine) srvJob(ctx context.Context) {
	in := append(append([]srvService{}, srvIMAP...), srvPOP3...)
	if e.proto == mailcfg.POP3 {
		in = append(append([]srvService{}, srvPOP3...), srvIMAP...)
	}
	all := append(append([]srvService{}, in...), srvSubmission...)
	answers := make(chan srvAnswer, len(all))
	for _, s := range all {
		go func() { answers <- e.lookupSRV(ctx, s) }()
	}
	got := map[string]srvAnswer{}
	decide := func(order []srvService) (srvAnswer, bool, bool) {
		for _, s := range order {
			a, ok := got[s.name]
			if !ok {
				return srvAnswer{}, false, false
			}
			if a.err == nil {
				return a, true, true
			}
		}
		return srvAnswer{}, false, true
	}
	for range all {
		select {
		case a := <-answers:
			got[a.svc.name] = a
		case <-ctx.Done():
			return
		}
		inA, inOK, inDone := decide(in)
		outA, outOK, outDone := decide(srvSubmission)
		if !inDone || !outDone {
			continue
		}
		if !inOK || !outOK {
			e.send(ctx, rankSRV, nil)
			return
		}
		server := func(a srvAnswer) mailcfg.Server {
			return mailcfg.Server{Protocol: a.svc.proto, Host: a.host, Port: a.port, Security: a.svc.sec, Username: e.addr.String()}
		}
		s := mailcfg.Settings{Email: e.addr.String(), Auth: mailcfg.AuthPassword, Incoming: server(inA), Outgoing: server(outA)}
		rec := e.log.begin(mailcfg.SourceSRV, "srv:"+inA.svc.name+"+"+outA.svc.name)
		c, err := e.finish(s, mailcfg.SourceSRV, false, []string{inA.host, outA.host})
		e.log.end(rec, err)
		e.send(ctx, rankSRV, c)
		return
	}
}

func (e *engine) lookupSRV(ctx context.Context, s srvService) srvAnswer {
	rec := e.log.begin(mailcfg.SourceSRV, "dns:SRV _"+s.name+"._tcp."+e.addr.Domain)
	lctx, cancel := context.WithTimeout(ctx, LookupTimeout)
	_, recs, err := e.resolver.LookupSRV(lctx, s.name, "tcp", e.addr.Domain+".")
	cancel()
	a := srvAnswer{svc: s}
	dot := false
	for _, r := range recs {
		t := strings.TrimSuffix(r.Target, ".")
		if t == "" || r.Port == 0 {
			dot = true // RFC 2782: "." means the service is not offered
			continue
		}
		h, ok := mailcfg.NormalizeHost(t)
		if !ok || !publicHost(h) {
			continue
		}
		a.host, a.port = h, int(r.Port)
		break
	}
	switch {
	case a.host != "":
		err = nil
	case err != nil:
	case dot:
		err = errors.New(`not offered (target ".")`)
	default:
		err = errors.New("no usable record")
	}
	a.err = err
	e.log.end(rec, err)
	return a
}
