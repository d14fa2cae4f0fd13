package wxapi

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/silenceper/wechat/v2/util"
)

// Phone is the WeChat-verified phone number behind a getPhoneNumber code.
type Phone struct {
	PhoneNumber     string // with the country code for numbers outside the mainland
	PurePhoneNumber string // without it
	CountryCode     string
	AppID           string // the watermark: which mini-program asked
	Timestamp       int64  // and when (unix seconds)
}

// ErrInvalidPhoneCode: the getPhoneNumber code is wrong, used or expired;
// the user must tap the button again.
var ErrInvalidPhoneCode = errors.New("wechat: invalid phone number code")

// phoneCodePattern keeps the code to what WeChat issues; it travels in a
// JSON body, so this is about refusing junk early, not about escaping.
var phoneCodePattern = regexp.MustCompile(`^[A-Za-z0-9_\-]{1,128}$`)

// PhoneNumber exchanges the code of the mini-program's getPhoneNumber button
// (手机号快速验证) through wxa/business/getuserphonenumber. The watermark must
// name this mini-program. Returns ErrInvalidPhoneCode or ErrUnavailable (wrapped).
func (m *MiniProgram) PhoneNumber(ctx context.Context, code string) (Phone, error) {
	if !phoneCodePattern.MatchString(code) {
		return Phone{}, ErrInvalidPhoneCode
	}
	ctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	defer cancel()
	res, err := m.mp.GetAuth().GetPhoneNumberContext(ctx, code)
	if err != nil {
		var ce *util.CommonError
		if !errors.As(err, &ce) {
			return Phone{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		switch ce.ErrCode {
		case 40029, 40163: // invalid code, code been used
			return Phone{}, fmt.Errorf("%w: %v", ErrInvalidPhoneCode, ce)
		default:
			return Phone{}, fmt.Errorf("%w: %v", ErrUnavailable, ce)
		}
	}
	info := res.PhoneInfo
	if info.WaterMark.AppID != m.cfg.AppID {
		return Phone{}, fmt.Errorf("%w: watermark names app %q", ErrUnavailable, info.WaterMark.AppID)
	}
	if info.PurePhoneNumber == "" {
		return Phone{}, fmt.Errorf("%w: empty phone number", ErrUnavailable)
	}
	return Phone{PhoneNumber: info.PhoneNumber, PurePhoneNumber: info.PurePhoneNumber, CountryCode: info.CountryCode,
		AppID: info.WaterMark.AppID, Timestamp: info.WaterMark.Timestamp}, nil
}
