package province

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"zwfw/apperr"
	"zwfw/pii"
)

// E-licence routes. Personal data: never cached; the GET check is retried.
var (
	epQueryLicenses = endpoint{groupLicenses, http.MethodPost, "/api/licenses/query"}
	epVerifyCode    = endpoint{groupLicenses, http.MethodPost, "/api/licenses/{id}/verify-code"}
	epCheckCode     = endpoint{groupLicenses, http.MethodGet, "/api/licenses/verify"}
)

// Holder types of e-licences.
const (
	HolderCitizen  = "citizen"  // holder id is a resident ID number
	HolderBusiness = "business" // holder id is a unified social credit code
)

// Statuses of an e-licence.
const (
	LicenseValid   = "valid"
	LicenseExpired = "expired"
	LicenseRevoked = "revoked"
)

// License is an e-licence (电子证照) as the province shows it: number and
// holder name come masked.
type License struct {
	ID               string `json:"id"`
	Type             string `json:"type"` // id_card, business_license, driving_license, ...
	Name             string `json:"name"`
	NumberMasked     string `json:"number_masked"`
	HolderNameMasked string `json:"holder_name_masked"`
	Issuer           string `json:"issuer"`
	IssuedOn         string `json:"issued_on"`  // YYYY-MM-DD
	ExpiresOn        string `json:"expires_on"` // YYYY-MM-DD, "" for no expiry
	Status           string `json:"status"`     // LicenseValid, LicenseExpired, LicenseRevoked
}

// LicenseCheck is what a clerk sees when checking a verification code.
type LicenseCheck struct {
	Valid   bool    `json:"valid"`
	License License `json:"license"`
}

// QueryLicenses lists the e-licences of a holder; the cases package calls it
// so an applicant can use an e-licence instead of a paper material, with the
// holder id of the authenticated user only.
//
// Returns REQUEST_INVALID for an unknown holder type, ID_NUMBER_INVALID or
// USCC_INVALID for a malformed holder id, PROVINCE_UNAVAILABLE,
// PROVINCE_TIMEOUT or PROVINCE_BAD_RESPONSE when the province cannot answer.
func (c *Client) QueryLicenses(ctx context.Context, holderType, holderID string) ([]License, error) {
	holderID, err := normalizeHolder(holderType, holderID)
	if err != nil {
		return nil, err
	}
	body := map[string]string{"holder_type": holderType, "holder_id": holderID}
	var res struct {
		Licenses []License `json:"licenses"`
	}
	if err := c.call(ctx, request{ep: epQueryLicenses, path: epQueryLicenses.route, body: body}, &res); err != nil {
		return nil, err
	}
	if res.Licenses == nil {
		res.Licenses = []License{}
	}
	return res.Licenses, nil
}

// LicenseVerifyCode asks for a short-lived (5 minute) code with which a
// clerk can check the holder's e-licence licenseID; handlers call it when a
// citizen shows a licence at a window. holderID is the resident ID number
// or USCC of the authenticated holder.
//
// Returns LICENSE_NOT_FOUND when the licence is not the holder's,
// ID_NUMBER_INVALID when holderID is neither an ID number nor a USCC, PROVINCE_UNAVAILABLE,
// PROVINCE_TIMEOUT or PROVINCE_BAD_RESPONSE when the province cannot answer.
func (c *Client) LicenseVerifyCode(ctx context.Context, licenseID, holderID string) (code string, expiresAt time.Time, err error) {
	licenseID = strings.TrimSpace(licenseID)
	if !validRef(licenseID) {
		return "", time.Time{}, ErrLicenseNotFound
	}
	// The holder is a person or a company; accept either valid form.
	if id := pii.NormalizeIDNumber(holderID); pii.ValidateIDNumber(id) == nil {
		holderID = id
	} else if uscc := pii.NormalizeUSCC(holderID); pii.ValidateUSCC(uscc) == nil {
		holderID = uscc
	} else {
		return "", time.Time{}, ErrIDNumberInvalid.WithMessage("证照持有人证件号码格式不正确")
	}
	var res struct {
		Code      string    `json:"code"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	r := request{ep: epVerifyCode, path: "/api/licenses/" + url.PathEscape(licenseID) + "/verify-code",
		body: map[string]string{"holder_id": holderID}}
	if err := c.call(ctx, r, &res); err != nil {
		return "", time.Time{}, err
	}
	if res.Code == "" {
		return "", time.Time{}, ErrBadResponse.WithMessage("省级政务服务平台未返回核验码，请稍后再试")
	}
	return res.Code, res.ExpiresAt, nil
}

// CheckLicenseCode checks a verification code made by LicenseVerifyCode;
// hall staff call it. An unknown or expired code is Valid=false, not an error.
//
// Returns REQUEST_INVALID for an empty code, PROVINCE_UNAVAILABLE,
// PROVINCE_TIMEOUT or PROVINCE_BAD_RESPONSE when the province cannot answer.
func (c *Client) CheckLicenseCode(ctx context.Context, code string) (LicenseCheck, error) {
	code = strings.TrimSpace(code)
	if !validRef(code) {
		return LicenseCheck{}, apperr.InvalidInput.WithFields(apperr.Field("code", "REQUIRED", "请输入核验码"))
	}
	var res LicenseCheck
	err := c.call(ctx, request{ep: epCheckCode, path: epCheckCode.route, query: url.Values{"code": {code}}}, &res)
	return res, err
}

// normalizeHolder validates a holder id for its type and returns its canonical form.
func normalizeHolder(holderType, holderID string) (string, error) {
	switch holderType {
	case HolderCitizen:
		id := pii.NormalizeIDNumber(holderID)
		if err := pii.ValidateIDNumber(id); err != nil {
			return "", ErrIDNumberInvalid.WithMessage(err.Error())
		}
		return id, nil
	case HolderBusiness:
		id := pii.NormalizeUSCC(holderID)
		if err := pii.ValidateUSCC(id); err != nil {
			return "", ErrUSCCInvalid.WithMessage(err.Error())
		}
		return id, nil
	}
	return "", apperr.InvalidInput.WithFields(apperr.Field("holder_type", "INVALID", "证照持有人类型只能是 citizen 或 business"))
}
