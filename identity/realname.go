package identity

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"time"

	"zwfw/apperr"
	"zwfw/pii"
	"zwfw/province"
)

// Province is what identity needs from the provincial platform's unified
// identity and e-licence services (implemented by *province.Client).
type Province interface {
	VerifyRealName(ctx context.Context, name, idNumber string) (province.RealNameResult, error)
	VerifyCompany(ctx context.Context, uscc, operatorName, operatorIDNumber string) (province.CompanyResult, error)
	QueryLicenses(ctx context.Context, holderType, holderID string) ([]province.License, error)
	LicenseVerifyCode(ctx context.Context, licenseID, holderID string) (string, time.Time, error)
	CheckLicenseCode(ctx context.Context, code string) (province.LicenseCheck, error)
}

// Errors of real-name verification, company binding and e-licences.
var (
	ErrRealNameMismatch   = apperr.New(apperr.KindInvalid, "REALNAME_MISMATCH", "姓名与身份证号码不一致，请核对后重新输入")
	ErrRealNameOther      = apperr.New(apperr.KindConflict, "REALNAME_ALREADY_VERIFIED", "该账号已完成实名认证，不能更换为其他身份")
	ErrRealNameRequired   = apperr.RealNameRequired
	ErrStaffNoRealName    = apperr.New(apperr.KindForbidden, "REALNAME_NOT_FOR_STAFF", "工作人员账号无需实名认证")
	ErrCompanyNotOperator = apperr.New(apperr.KindForbidden, "COMPANY_NOT_AUTHORIZED", "您不是该企业的法定代表人或授权经办人")
	ErrLicenseNotFound    = apperr.New(apperr.KindNotFound, "LICENSE_NOT_FOUND", "未找到该电子证照")
)

// A legal name: Han characters, with the middle dot of minority and
// transliterated names (e.g. 买买提·艾力).
var namePattern = regexp.MustCompile(`^\p{Han}[\p{Han}·]{0,18}\p{Han}$`)

// VerifyRealName binds the caller's account to a verified name and resident
// ID number (实名认证). The number is checked locally first (GB 11643 check
// digit), then with the province's unified identity service; a mismatch
// never says which part was wrong. The name and number are stored SM4-
// encrypted with a blind index and a masked copy. Repeating it with the same
// person is harmless; another person is refused.
//
// An ID number has one holder: verifying it for a second person is refused
// (REALNAME_HELD_BY_OTHER_ACCOUNT: sign in with that account, or link it).
//
// Returns REQUEST_INVALID (fields name / id_number), REALNAME_MISMATCH,
// REALNAME_ALREADY_VERIFIED, REALNAME_HELD_BY_OTHER_ACCOUNT,
// REALNAME_NOT_FOR_STAFF, ACCOUNT_MERGE_IN_PROGRESS, or the province's
// PROVINCE_UNAVAILABLE / PROVINCE_TIMEOUT.
func (s *Service) VerifyRealName(ctx context.Context, p *Principal, name, idNumber string) (*User, error) {
	name = strings.TrimSpace(name)
	idNumber = pii.NormalizeIDNumber(idNumber)
	var fields []apperr.FieldError
	if !namePattern.MatchString(name) {
		fields = append(fields, apperr.Field("name", "NAME_INVALID", "请输入身份证上的中文姓名"))
	}
	if err := pii.ValidateIDNumber(idNumber); err != nil {
		fields = append(fields, apperr.Field("id_number", idNumberErrorCode(err), err.Error()))
	}
	if len(fields) > 0 {
		return nil, apperr.InvalidInput.WithFields(fields...)
	}
	u, err := s.person(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	if u.Kind == KindStaff {
		return nil, ErrStaffNoRealName
	}
	if u.MergeLock != "" {
		// A merge decides now whose identity the person takes.
		return nil, ErrMergeInProgress
	}
	bidx := s.pii.Index("id_number", idNumber)
	if u.RealNameVerified {
		if u.IDNumberIndex == bidx {
			return u, nil
		}
		return nil, ErrRealNameOther
	}
	// One person per identity: refused before asking the province when
	// someone holds it already (the claim below decides under races).
	if h, err := s.otherHolder(ctx, u, bidx); err != nil {
		return nil, err
	} else if h != nil {
		s.log.Info("real-name refused: identity held by another person", "user_id", u.ID, "holder", h.ID)
		return nil, heldByOther(h)
	}
	res, err := s.province.VerifyRealName(ctx, name, idNumber)
	if err != nil {
		return nil, err
	}
	if !res.Match {
		s.log.Info("real-name check did not match", "user_id", u.ID, "id_number", pii.IDNumber(idNumber))
		return nil, ErrRealNameMismatch
	}
	nameEnc, err := s.pii.EncryptField("name", name)
	if err != nil {
		return nil, err
	}
	idEnc, err := s.pii.EncryptField("id_number", idNumber)
	if err != nil {
		return nil, err
	}
	if err := s.claimIdentity(ctx, u, bidx); err != nil {
		return nil, err
	}
	return s.updateUser(ctx, u.ID, func(u *User) error {
		if u.RealNameVerified && u.IDNumberIndex != bidx {
			return ErrRealNameOther
		}
		now := s.clock()
		u.RealNameVerified = true
		u.RealNameVerifiedAt = &now
		u.RealNameVerifyID = res.VerifyID
		u.NameEnc, u.NameMasked = nameEnc, pii.MaskName(name)
		u.IDNumberEnc, u.IDNumberIndex, u.IDNumberMasked = idEnc, bidx, pii.MaskIDNumber(idNumber)
		return nil
	})
}

func idNumberErrorCode(err error) string {
	switch {
	case errors.Is(err, pii.ErrIDNumberChecksum):
		return "ID_NUMBER_CHECKSUM"
	case errors.Is(err, pii.ErrIDNumberBirthDate):
		return "ID_NUMBER_BIRTH_DATE"
	case errors.Is(err, pii.ErrIDNumberLength):
		return "ID_NUMBER_LENGTH"
	default:
		return "ID_NUMBER_FORMAT"
	}
}

// BindCompany binds the real-name-verified caller to a company as its legal
// representative or agent, checked with the province's company registry, and
// grants the business role. Binding again is harmless.
//
// Returns REQUEST_INVALID (field uscc), REALNAME_REQUIRED,
// COMPANY_NOT_AUTHORIZED, COMPANY_NOT_FOUND or the province's errors.
func (s *Service) BindCompany(ctx context.Context, p *Principal, uscc string) (*User, error) {
	uscc = pii.NormalizeUSCC(uscc)
	if err := pii.ValidateUSCC(uscc); err != nil {
		return nil, apperr.InvalidInput.WithFields(apperr.Field("uscc", "USCC_INVALID", err.Error()))
	}
	u, err := s.person(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	name, idNumber, err := s.realName(u)
	if err != nil {
		return nil, err
	}
	for _, c := range u.Companies {
		if c.USCC == uscc {
			return u, nil
		}
	}
	res, err := s.province.VerifyCompany(ctx, uscc, name, idNumber)
	if err != nil {
		return nil, err
	}
	if !res.Match {
		return nil, ErrCompanyNotOperator
	}
	return s.updateUser(ctx, u.ID, func(u *User) error {
		for _, c := range u.Companies {
			if c.USCC == uscc {
				return nil
			}
		}
		u.Companies = append(u.Companies, Company{USCC: uscc, Name: res.CompanyName, Role: res.Role, BoundAt: s.clock()})
		if !u.HasRole(RoleBusiness) {
			u.Roles = append(u.Roles, RoleBusiness)
		}
		return nil
	})
}

// realName decrypts the verified name and ID number of u.
func (s *Service) realName(u *User) (name, idNumber string, err error) {
	if !u.RealNameVerified || u.IDNumberEnc == "" {
		return "", "", ErrRealNameRequired
	}
	if name, err = s.pii.DecryptField("name", u.NameEnc); err != nil {
		return "", "", err
	}
	if idNumber, err = s.pii.DecryptField("id_number", u.IDNumberEnc); err != nil {
		return "", "", err
	}
	return name, idNumber, nil
}

// updateUser applies change to the current user and saves it guarded by
// version, retrying when a concurrent change won the race.
func (s *Service) updateUser(ctx context.Context, id string, change func(*User) error) (*User, error) {
	for attempt := 0; ; attempt++ {
		u, err := s.users.UserByID(ctx, id)
		if err != nil {
			return nil, err
		}
		prev := u.Version
		if err := change(u); err != nil {
			return nil, err
		}
		u.Version = prev + 1
		u.UpdatedAt = s.clock()
		err = s.users.SaveUser(ctx, u, prev)
		if err == nil {
			return u, nil
		}
		if !errors.Is(err, apperr.Conflict) || attempt >= maxRetries {
			return nil, err
		}
	}
}

// HeldLicense is an e-licence of the caller or of one of their companies.
type HeldLicense struct {
	province.License
	HolderType string // citizen | business
	holderID   string
}

// Licenses lists the caller's e-licences: their own (by ID number) and their
// companies' (by USCC). Returns REALNAME_REQUIRED or the province's errors.
func (s *Service) Licenses(ctx context.Context, p *Principal) ([]HeldLicense, error) {
	u, err := s.person(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	_, idNumber, err := s.realName(u)
	if err != nil {
		return nil, err
	}
	var out []HeldLicense
	own, err := s.province.QueryLicenses(ctx, province.HolderCitizen, idNumber)
	if err != nil {
		return nil, err
	}
	for _, l := range own {
		out = append(out, HeldLicense{License: l, HolderType: province.HolderCitizen, holderID: idNumber})
	}
	for _, c := range u.Companies {
		ls, err := s.province.QueryLicenses(ctx, province.HolderBusiness, c.USCC)
		if err != nil {
			return nil, err
		}
		for _, l := range ls {
			out = append(out, HeldLicense{License: l, HolderType: province.HolderBusiness, holderID: c.USCC})
		}
	}
	return out, nil
}

// LicenseWithCode is one e-licence with a short-lived verification code a
// clerk can check (亮证).
type LicenseWithCode struct {
	HeldLicense
	VerifyCode string
	ExpiresAt  time.Time
}

// License returns one of the caller's e-licences with a fresh verification
// code. Returns LICENSE_NOT_FOUND for a licence that is not the caller's.
func (s *Service) License(ctx context.Context, p *Principal, id string) (*LicenseWithCode, error) {
	all, err := s.Licenses(ctx, p)
	if err != nil {
		return nil, err
	}
	for _, l := range all {
		if l.ID != id {
			continue
		}
		code, exp, err := s.province.LicenseVerifyCode(ctx, l.ID, l.holderID)
		if err != nil {
			return nil, err
		}
		return &LicenseWithCode{HeldLicense: l, VerifyCode: code, ExpiresAt: exp}, nil
	}
	return nil, ErrLicenseNotFound
}

var licenseCodePattern = regexp.MustCompile(`^[A-Za-z0-9]{4,64}$`)

// CheckLicenseCode lets hall staff check the verification code a citizen
// shows (亮证). An unknown or expired code is Valid=false, not an error.
// Returns REQUEST_INVALID for a malformed code, or the province's errors.
func (s *Service) CheckLicenseCode(ctx context.Context, code string) (province.LicenseCheck, error) {
	code = strings.TrimSpace(code)
	if !licenseCodePattern.MatchString(code) {
		return province.LicenseCheck{}, apperr.InvalidInput.WithFields(apperr.Field("code", "CODE_INVALID", "请输入证照核验码"))
	}
	return s.province.CheckLicenseCode(ctx, code)
}

// Applicant is the verified identity of a user, decrypted for an application
// to the province (the cases package calls it through an adapter).
type Applicant struct {
	Name      string
	IDNumber  string
	Phone     string
	Companies map[string]string // USCC -> company name
}

// ApplicantOf returns the verified identity of userID. Returns REALNAME_REQUIRED.
func (s *Service) ApplicantOf(ctx context.Context, userID string) (Applicant, error) {
	u, err := s.person(ctx, userID)
	if err != nil {
		return Applicant{}, err
	}
	name, id, err := s.realName(u)
	if err != nil {
		return Applicant{}, err
	}
	a := Applicant{Name: name, IDNumber: id, Companies: map[string]string{}}
	if u.PhoneEnc != "" {
		if a.Phone, err = s.pii.DecryptField("phone", u.PhoneEnc); err != nil {
			return Applicant{}, err
		}
	}
	for _, c := range u.Companies {
		a.Companies[c.USCC] = c.Name
	}
	return a, nil
}
