package payments

import "context"

// Discover asks the non-tax platform for the notices issued to the user (as
// a person and for the companies they represent), stores the ones zwfw has
// not seen (with payment.notice_issued), and returns them as zwfw holds them
// (their status is zwfw's: a notice paid here shows paid at once). It reads
// nothing by scanning: each notice is one write or read by its payment code.
// For the home screen; the payments list (List) does the same, then lists
// everything the user may see. Returns the platform's error when it cannot
// be asked for one of the payers (with the notices of those it answered
// for).
func (s *Service) Discover(ctx context.Context, userID string) ([]Payment, error) {
	payer, err := s.people.Payer(ctx, userID)
	if err != nil {
		return nil, err
	}
	var out []Payment
	var failed error
	for _, id := range payer.IDs {
		notices, err := s.treasury.NoticesOf(ctx, id)
		if err != nil {
			failed = err
			continue
		}
		for _, n := range notices {
			p, err := s.mirror(ctx, n, userID)
			if err != nil {
				return nil, err
			}
			out = append(out, p)
		}
	}
	return out, failed
}

// ByCode returns a stored payment by its code, without its orders and
// refunds, for views that show where a notice stands (the home screen).
// Returns PAYMENT_NOT_FOUND.
func (s *Service) ByCode(ctx context.Context, code string) (Payment, error) {
	if !ValidPaymentCode(code) {
		return Payment{}, ErrNotFound
	}
	return s.store.Payment(ctx, code)
}
