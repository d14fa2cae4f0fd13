package province

import (
	"context"
	"net/http"
	"strings"

	"zwfw/apperr"
	"zwfw/pii"
)

// Identity routes. Their bodies carry personal data: POST, never cached,
// never retried, logged as the route only.
var (
	epRealName = endpoint{groupIdentity, http.MethodPost, "/api/identity/realname/verify"}
	epCompany  = endpoint{groupIdentity, http.MethodPost, "/api/identity/company/verify"}
)

// Roles of an operator in a company.
const (
	RoleLegalRepresentative = "legal_representative"
	RoleAgent               = "agent"
)

// RealNameResult is the answer of a real-name check (实名核验).
type RealNameResult struct {
	// Match is true when name and ID number belong together. A mismatch
	// never says which part was wrong.
	Match bool `json:"match"`
	// VerifyID is the province's reference of the check, to keep with the account.
	VerifyID string `json:"verify_id"`
}

// CompanyResult is the answer of a company check (法人核验).
type CompanyResult struct {
	// Match is true when the operator may act for the company.
	Match       bool   `json:"match"`
	CompanyName string `json:"company_name"`
	// Role is RoleLegalRepresentative or RoleAgent.
	Role string `json:"role"`
}

// VerifyRealName checks a name and resident ID number with the unified
// identity service; the identity package calls it when a user verifies
// their real name. The ID number is checked locally first (GB 11643).
//
// Returns ID_NUMBER_INVALID for a malformed ID number, REQUEST_INVALID for
// an empty name, PROVINCE_UNAVAILABLE or PROVINCE_TIMEOUT when the province
// cannot answer, PROVINCE_BAD_RESPONSE for a spoofed answer.
func (c *Client) VerifyRealName(ctx context.Context, name, idNumber string) (RealNameResult, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return RealNameResult{}, apperr.InvalidInput.WithFields(apperr.Field("name", "REQUIRED", "请输入姓名"))
	}
	idNumber = pii.NormalizeIDNumber(idNumber)
	if err := pii.ValidateIDNumber(idNumber); err != nil {
		return RealNameResult{}, ErrIDNumberInvalid.WithMessage(err.Error())
	}
	body := map[string]string{"name": name, "id_number": idNumber}
	var res RealNameResult
	err := c.call(ctx, request{ep: epRealName, path: epRealName.route, body: body}, &res)
	return res, err
}

// VerifyCompany checks that the operator (name and ID number) may act for
// the company with the unified social credit code uscc; the identity
// package calls it when a business account is bound to a company.
//
// Returns USCC_INVALID or ID_NUMBER_INVALID for malformed codes,
// REQUEST_INVALID for an empty name, COMPANY_NOT_FOUND when the province
// knows no such company, PROVINCE_UNAVAILABLE, PROVINCE_TIMEOUT or
// PROVINCE_BAD_RESPONSE otherwise.
func (c *Client) VerifyCompany(ctx context.Context, uscc, operatorName, operatorIDNumber string) (CompanyResult, error) {
	uscc = pii.NormalizeUSCC(uscc)
	if err := pii.ValidateUSCC(uscc); err != nil {
		return CompanyResult{}, ErrUSCCInvalid.WithMessage(err.Error())
	}
	operatorName = strings.TrimSpace(operatorName)
	if operatorName == "" {
		return CompanyResult{}, apperr.InvalidInput.WithFields(apperr.Field("operator_name", "REQUIRED", "请输入经办人姓名"))
	}
	operatorIDNumber = pii.NormalizeIDNumber(operatorIDNumber)
	if err := pii.ValidateIDNumber(operatorIDNumber); err != nil {
		return CompanyResult{}, ErrIDNumberInvalid.WithMessage(err.Error())
	}
	body := map[string]string{"uscc": uscc, "operator_name": operatorName, "operator_id_number": operatorIDNumber}
	var res CompanyResult
	err := c.call(ctx, request{ep: epCompany, path: epCompany.route, body: body}, &res)
	return res, err
}

// call runs a non-cached call and decodes its data into out.
func (c *Client) call(ctx context.Context, r request, out any) error {
	data, err := c.do(ctx, r)
	if err != nil {
		return err
	}
	return decodeData(data, out)
}
