package cases

import (
	"strings"

	"zwfw/pii"
	"zwfw/province"
)

// personalField tells form fields that carry personal data: they are stored
// encrypted and shown masked, like every other personal datum in zwfw.
func personalField(f province.FormField) (mask func(string) string, ok bool) {
	switch f.Type {
	case "id_number":
		return pii.MaskIDNumber, true
	case "phone":
		return pii.MaskPhone, true
	case "address":
		return pii.MaskAddress, true
	}
	if strings.HasSuffix(f.Name, "_name") && strings.Contains(f.Label, "姓名") {
		return pii.MaskName, true
	}
	return nil, false
}

// sealForm encrypts the personal-data values of form and returns their masked copies.
func (s *Service) sealForm(g province.Guide, form map[string]any) (map[string]any, map[string]string, error) {
	out := cleanForm(form)
	masked := map[string]string{}
	for _, f := range g.FormFields {
		mask, ok := personalField(f)
		v, isStr := out[f.Name].(string)
		if !ok || !isStr || v == "" {
			continue
		}
		enc, err := s.pii.EncryptField("form."+f.Name, v)
		if err != nil {
			return nil, nil, err
		}
		out[f.Name] = enc
		masked[f.Name] = mask(v)
	}
	return out, masked, nil
}

// plainForm returns the form with personal-data values decrypted (for
// pre-review and for the province).
func (s *Service) plainForm(c *Case) (map[string]any, error) {
	out := make(map[string]any, len(c.Form))
	for k, v := range c.Form {
		out[k] = v
		if _, sealed := c.FormMasked[k]; !sealed {
			continue
		}
		enc, _ := v.(string)
		plain, err := s.pii.DecryptField("form."+k, enc)
		if err != nil {
			return nil, err
		}
		out[k] = plain
	}
	return out, nil
}

// ShownForm is the form for display: personal data masked.
func (c *Case) ShownForm() map[string]any {
	out := make(map[string]any, len(c.Form))
	for k, v := range c.Form {
		if m, sealed := c.FormMasked[k]; sealed {
			out[k] = m
			continue
		}
		out[k] = v
	}
	return out
}
