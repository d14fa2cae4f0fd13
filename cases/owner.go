package cases

// OwnerDelivery is the case's delivery with the mailing address in full
// (decrypted), for its owner's own view and their draft edits only; every
// other view shows Case.Delivery, whose address is masked.
func (s *Service) OwnerDelivery(c *Case) (Delivery, error) {
	d := Delivery{Materials: c.Delivery.Materials, Result: c.Delivery.Result}
	if c.Delivery.AddressEnc == "" {
		return d, nil
	}
	a, _, err := s.decryptAddress(c)
	if err != nil {
		return Delivery{}, err
	}
	d.Address = &a
	return d, nil
}
