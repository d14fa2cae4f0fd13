package notify_test

import (
	"testing"

	"zwfw/platform/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }
