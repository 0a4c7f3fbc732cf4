package mailcfg

// PresetProviderID is the id of the firm's own provider entry that IT
// presets by policy (see policy.FirmProvider).
const PresetProviderID = "firm"

// SourcePolicy marks settings from the firm's preset provider entry.
const SourcePolicy Source = "policy"

// source is where the provider's settings come from.
func (p *Provider) source() Source {
	if p.ID == PresetProviderID {
		return SourcePolicy
	}
	return SourceBundled
}

// WithPreset returns a table in which p, the firm's own provider entry,
// comes first and owns its domains: for them it wins over every provider of
// t (and so over every discovery source, which the table answers before).
// t is not changed; nil p gives t.
func (t *Table) WithPreset(p *Provider) *Table {
	if p == nil {
		return t
	}
	n := &Table{
		Version:   t.Version,
		Providers: make([]*Provider, 0, len(t.Providers)+1),
		byDomain:  make(map[string]*Provider, len(t.byDomain)+len(p.Domains)),
		byID:      make(map[string]*Provider, len(t.byID)+1),
	}
	n.Providers = append(n.Providers, p)
	for _, q := range t.Providers {
		if q.ID != p.ID {
			n.Providers = append(n.Providers, q)
		}
	}
	for d, q := range t.byDomain {
		n.byDomain[d] = q
	}
	for id, q := range t.byID {
		n.byID[id] = q
	}
	n.byID[p.ID] = p
	for _, d := range p.Domains {
		if a, _, ok := normalizeDomain(d); ok {
			n.byDomain[a] = p
		}
	}
	return n
}
