package push

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strconv"
)

// The push object, decoded leniently first (raw fields) so that each field's
// problem gets JPush's own code: 1002 when it is missing, 1003 when it has
// the wrong shape.
type rawPush struct {
	Platform     json.RawMessage `json:"platform"`
	Audience     json.RawMessage `json:"audience"`
	Notification json.RawMessage `json:"notification"`
	Message      json.RawMessage `json:"message"`
	Options      json.RawMessage `json:"options"`
}

type notification struct {
	Alert   *string              `json:"alert"`
	Android *androidNotification `json:"android"`
	IOS     *iosNotification     `json:"ios"`
}

type androidNotification struct {
	Alert     *string        `json:"alert"`
	Title     string         `json:"title"`
	BuilderID int            `json:"builder_id"`
	Extras    map[string]any `json:"extras"`
}

type iosNotification struct {
	// Alert is a string or an APNs alert dictionary {"title", "subtitle", "body"}.
	Alert json.RawMessage `json:"alert"`
	// Sound is a file name, or a dictionary for critical alerts.
	Sound json.RawMessage `json:"sound"`
	// Badge is a number or a string: "+1" adds one, "5" sets it.
	Badge            json.RawMessage `json:"badge"`
	ContentAvailable bool            `json:"content-available"`
	Category         string          `json:"category"`
	Extras           map[string]any  `json:"extras"`
}

// customMessage is JPush's "message" (自定义消息): handed to the app, not shown.
type customMessage struct {
	MsgContent  *string        `json:"msg_content"`
	Title       string         `json:"title"`
	ContentType string         `json:"content_type"`
	Extras      map[string]any `json:"extras"`
}

type pushOptions struct {
	SendNo         *int64 `json:"sendno"`
	TimeToLive     *int64 `json:"time_to_live"`
	APNsProduction *bool  `json:"apns_production"`
}

// pushRequest is a checked push object.
type pushRequest struct {
	platforms       map[string]bool
	broadcast       bool     // audience "all"
	registrationIDs []string // deduplicated, in the order given
	// byAttribute: the audience also names tags, aliases, segments...; no
	// sandbox device has any, so such a push (an AND of them) reaches no one.
	byAttribute    bool
	notification   *notification
	iosAlert       iosAlert
	message        *customMessage
	sendNo         string
	timeToLive     int64
	apnsProduction bool
}

type iosAlert struct {
	set         bool
	title, body string
}

// JPush's platform keywords; only android and ios devices exist in the sandbox.
var knownPlatforms = map[string]bool{"android": true, "ios": true, "winphone": true, "quickapp": true, "hmos": true}

// Audience keys JPush knows. Only registration_id can match a sandbox device.
var knownAudienceKeys = map[string]bool{
	"registration_id": true, "tag": true, "tag_and": true, "tag_not": true,
	"alias": true, "segment": true, "abtest": true, "live_activity_id": true,
}

var badgePattern = regexp.MustCompile(`^[+-]?[0-9]{1,7}$`)

func absent(raw json.RawMessage) bool {
	return len(raw) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

// parsePush checks body as JPush does, returning the push or a coded error.
func parsePush(body []byte) (*pushRequest, *apiError) {
	var raw rawPush
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, errorf(CodeInvalidParam, "Invalid json format: %v", err)
	}
	p := &pushRequest{platforms: map[string]bool{}, timeToLive: DefaultTimeToLive, apnsProduction: true, sendNo: "0"}
	steps := []func(*rawPush) *apiError{p.parsePlatform, p.parseAudience, p.parseContent, p.parseOptions}
	for _, step := range steps {
		if err := step(&raw); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func (p *pushRequest) parsePlatform(raw *rawPush) *apiError {
	if absent(raw.Platform) {
		return errorf(CodeMissingParam, "Missing parameter: platform")
	}
	var all string
	if json.Unmarshal(raw.Platform, &all) == nil {
		if all != "all" {
			return errorf(CodeInvalidParam, `platform must be "all" or an array of platforms`)
		}
		for k := range knownPlatforms {
			p.platforms[k] = true
		}
		return nil
	}
	var list []string
	if err := json.Unmarshal(raw.Platform, &list); err != nil || len(list) == 0 {
		return errorf(CodeInvalidParam, `platform must be "all" or an array of platforms`)
	}
	for _, pl := range list {
		if !knownPlatforms[pl] {
			return errorf(CodeInvalidParam, "platform %q is not supported", pl)
		}
		p.platforms[pl] = true
	}
	return nil
}

func (p *pushRequest) parseAudience(raw *rawPush) *apiError {
	if absent(raw.Audience) {
		return errorf(CodeMissingParam, "Missing parameter: audience")
	}
	var all string
	if json.Unmarshal(raw.Audience, &all) == nil {
		if all != "all" {
			return errorf(CodeInvalidParam, `audience must be "all" or an object`)
		}
		p.broadcast = true
		return nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw.Audience, &obj); err != nil {
		return errorf(CodeInvalidParam, `audience must be "all" or an object`)
	}
	targeted := false
	for key, v := range obj {
		if !knownAudienceKeys[key] {
			return errorf(CodeInvalidParam, "audience key %q is not supported", key)
		}
		var values []string
		if key == "segment" || key == "abtest" || key == "live_activity_id" {
			// Not arrays of ids in every JPush version: accept any shape.
			if !absent(v) {
				targeted, p.byAttribute = true, true
			}
			continue
		}
		if err := json.Unmarshal(v, &values); err != nil {
			return errorf(CodeInvalidParam, "audience %s must be an array of strings", key)
		}
		if len(values) == 0 {
			continue // JPush: an empty array means the type is not used
		}
		targeted = true
		if key != "registration_id" {
			p.byAttribute = true
			continue
		}
		if len(values) > MaxRegistrationIDs {
			return errorf(CodeInvalidParam, "audience registration_id takes at most %d ids", MaxRegistrationIDs)
		}
		seen := map[string]bool{}
		for _, id := range values {
			if id == "" {
				return errorf(CodeInvalidParam, "audience registration_id must not contain empty ids")
			}
			if !seen[id] {
				seen[id] = true
				p.registrationIDs = append(p.registrationIDs, id)
			}
		}
	}
	if !targeted {
		return errorf(CodeInvalidParam, "audience must name at least one target")
	}
	return nil
}

// parseContent checks notification and message: at least one of them, and
// an alert for every targeted platform.
func (p *pushRequest) parseContent(raw *rawPush) *apiError {
	if absent(raw.Notification) && absent(raw.Message) {
		return errorf(CodeMissingParam, "Missing parameter: notification or message")
	}
	if err := checkSize(raw); err != nil {
		return err
	}
	if !absent(raw.Notification) {
		var n notification
		if err := json.Unmarshal(raw.Notification, &n); err != nil {
			return errorf(CodeInvalidParam, "notification is invalid: %v", err)
		}
		p.notification = &n
		if n.IOS != nil && !absent(n.IOS.Alert) {
			a, err := parseIOSAlert(n.IOS.Alert)
			if err != nil {
				return err
			}
			p.iosAlert = a
		}
		if n.IOS != nil && !absent(n.IOS.Badge) {
			if _, err := badgeText(n.IOS.Badge); err != nil {
				return err
			}
		}
		if p.platforms[PlatformAndroid] && n.Alert == nil && (n.Android == nil || n.Android.Alert == nil) {
			return errorf(CodeInvalidParam, "notification alert of android can not be empty")
		}
		if p.platforms[PlatformIOS] && n.Alert == nil && !p.iosAlert.set {
			return errorf(CodeInvalidParam, "notification alert of ios can not be empty")
		}
	}
	if !absent(raw.Message) {
		var m customMessage
		if err := json.Unmarshal(raw.Message, &m); err != nil {
			return errorf(CodeInvalidParam, "message is invalid: %v", err)
		}
		if m.MsgContent == nil {
			return errorf(CodeMissingParam, "Missing parameter: message.msg_content")
		}
		p.message = &m
	}
	return nil
}

// checkSize applies MaxPayloadBytes to what each platform receives: its own
// notification object (or the shared alert when it has none) plus the
// message, as JPush limits each platform's part separately.
func checkSize(raw *rawPush) *apiError {
	var sections map[string]json.RawMessage
	if !absent(raw.Notification) {
		if err := json.Unmarshal(raw.Notification, &sections); err != nil {
			return errorf(CodeInvalidParam, "notification must be an object")
		}
	}
	message := len(bytes.TrimSpace(raw.Message))
	for _, platform := range []string{PlatformAndroid, PlatformIOS} {
		part, ok := sections[platform]
		if !ok {
			part = sections["alert"]
		}
		if n := len(bytes.TrimSpace(part)) + message; n > MaxPayloadBytes {
			return errorf(CodeTooLarge, "Msg content too long: %s notification and message are %d bytes, at most %d", platform, n, MaxPayloadBytes)
		}
	}
	return nil
}

func parseIOSAlert(raw json.RawMessage) (iosAlert, *apiError) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return iosAlert{set: true, body: s}, nil
	}
	var d struct {
		Title string `json:"title"`
		Body  string `json:"body"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return iosAlert{}, errorf(CodeInvalidParam, "notification.ios.alert must be a string or an object")
	}
	return iosAlert{set: true, title: d.Title, body: d.Body}, nil
}

// badgeText renders a badge (number or "+1"-style string) as text.
func badgeText(raw json.RawMessage) (string, *apiError) {
	var n int64
	if json.Unmarshal(raw, &n) == nil {
		return strconv.FormatInt(n, 10), nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil && badgePattern.MatchString(s) {
		return s, nil
	}
	return "", errorf(CodeInvalidParam, `notification.ios.badge must be a number or a string like "+1"`)
}

func (p *pushRequest) parseOptions(raw *rawPush) *apiError {
	if absent(raw.Options) {
		return nil
	}
	var o pushOptions
	if err := json.Unmarshal(raw.Options, &o); err != nil {
		return errorf(CodeInvalidParam, "options are invalid: %v", err)
	}
	if o.SendNo != nil {
		p.sendNo = strconv.FormatInt(*o.SendNo, 10)
	}
	if o.TimeToLive != nil {
		if *o.TimeToLive < 0 || *o.TimeToLive > MaxTimeToLive {
			return errorf(CodeInvalidParam, "options.time_to_live must be 0-%d seconds", MaxTimeToLive)
		}
		p.timeToLive = *o.TimeToLive
	}
	if o.APNsProduction != nil {
		p.apnsProduction = *o.APNsProduction
	}
	return nil
}
