package push

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	"zwfw/sandbox/fake"
)

// Device is one installation of the app. JPush's SDK hands the app a
// registration id at start-up; the app sends it to zwfw, which pushes to it.
type Device struct {
	RegistrationID string     `json:"registration_id"`
	Platform       string     `json:"platform"` // PlatformAndroid or PlatformIOS
	Installed      bool       `json:"installed"`
	RegisteredAt   time.Time  `json:"registered_at"`
	UninstalledAt  *time.Time `json:"uninstalled_at,omitempty"`
}

// Errors of the device registry.
var (
	// ErrUnknownDevice: no device has the registration id.
	ErrUnknownDevice = errors.New("push: unknown registration id")
	// ErrInvalidDevice: the platform or the registration id is malformed, or
	// the id already belongs to a device of the other platform.
	ErrInvalidDevice = errors.New("push: invalid device")
)

// registrationIDPattern bounds ids a tester may choose: JPush's own are 19
// hex-like characters, but any short token keeps tests readable.
var registrationIDPattern = regexp.MustCompile(`^[0-9A-Za-z_-]{1,64}$`)

// RegisterDevice installs the app on a new device of platform (PlatformAndroid
// or PlatformIOS) and returns its registration id. It panics on another
// platform: that is a bug in the calling test, not a condition to handle.
func (s *Server) RegisterDevice(platform string) string {
	d, err := s.AddDevice("", platform)
	if err != nil {
		panic(err)
	}
	return d.RegistrationID
}

// AddDevice installs the app on a device. With an empty registrationID one
// is generated (19 characters, like JPush's); with a known one the app is
// (re)installed on that device, as JPush keeps a device's id across
// reinstalls. It returns ErrInvalidDevice for a platform other than android
// or ios, a malformed id, or an id registered with the other platform.
func (s *Server) AddDevice(registrationID, platform string) (Device, error) {
	if platform != PlatformAndroid && platform != PlatformIOS {
		return Device{}, fmt.Errorf("%w: platform must be %q or %q, not %q", ErrInvalidDevice, PlatformAndroid, PlatformIOS, platform)
	}
	if registrationID != "" && !registrationIDPattern.MatchString(registrationID) {
		return Device{}, fmt.Errorf("%w: registration id must be 1-64 letters, digits, '_' or '-'", ErrInvalidDevice)
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if registrationID == "" {
		registrationID = s.newRegistrationID(platform)
	}
	if d, ok := s.devices[registrationID]; ok {
		if d.Platform != platform {
			return Device{}, fmt.Errorf("%w: %s is registered as %s", ErrInvalidDevice, registrationID, d.Platform)
		}
		d.Installed, d.UninstalledAt = true, nil
		s.log.Info("push device reinstalled", "registration_id", registrationID, "platform", platform)
		return *d, nil
	}
	d := &Device{RegistrationID: registrationID, Platform: platform, Installed: true, RegisteredAt: now}
	s.devices[registrationID] = d
	s.order = append(s.order, registrationID)
	s.log.Info("push device registered", "registration_id", registrationID, "platform", platform)
	return *d, nil
}

// newRegistrationID makes an unused id; the caller holds s.mu. JPush's ids
// are 19 characters of digits and lower-case hex starting "1"; the third
// character tells the platforms apart here so a tester can read them.
func (s *Server) newRegistrationID(platform string) string {
	mark := "0"
	if platform == PlatformIOS {
		mark = "a"
	}
	for {
		id := "1" + fake.RandomString(fake.Hex, 1) + mark + fake.RandomString(fake.Hex, 16)
		if _, taken := s.devices[id]; !taken {
			return id
		}
	}
}

// UninstallDevice removes the app from a device: later pushes to its
// registration id find no target (1011). Uninstalling twice is harmless.
// It returns ErrUnknownDevice when no device has the id.
func (s *Server) UninstallDevice(registrationID string) error {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.devices[registrationID]
	if !ok {
		return ErrUnknownDevice
	}
	if d.Installed {
		d.Installed, d.UninstalledAt = false, &now
		s.log.Info("push device uninstalled", "registration_id", registrationID)
	}
	return nil
}

// Device returns the device with registrationID, installed or not.
func (s *Server) Device(registrationID string) (Device, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.devices[registrationID]
	if !ok {
		return Device{}, false
	}
	return *d, true
}

// Devices returns every device in order of registration.
func (s *Server) Devices() []Device {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Device, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, *s.devices[id])
	}
	return out
}
