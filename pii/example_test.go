package pii_test

import (
	"errors"
	"fmt"
	"log/slog"
	"os"

	"zwfw/pii"
)

// Store a phone number encrypted, with a blind index for lookups and a
// masked copy for display.
func Example() {
	// In production the keys come from configuration (ParseKeyHex) or
	// LoadOrCreateKeyFile; never from source code.
	cipher, err := pii.NewCipher(map[byte][]byte{1: pii.GenerateKey()}, 1)
	if err != nil {
		panic(err)
	}
	index := pii.NewBlindIndex(pii.GenerateBlindIndexKey())

	phone := pii.NormalizePhone("+86 138-1234-5678")
	if err := pii.ValidatePhone(phone); err != nil {
		fmt.Println(err)
		return
	}
	enc, _ := cipher.EncryptField("phone", phone)
	record := map[string]string{
		"phone_enc":    enc,                         // "v1:..."; decrypts only as "phone"
		"phone_index":  index.Index("phone", phone), // query by this
		"phone_masked": pii.MaskPhone(phone),        // show this
	}
	plain, _ := cipher.DecryptField("phone", record["phone_enc"])
	fmt.Println(plain == phone, len(record["phone_index"]), record["phone_masked"])
	// Output: true 64 138****5678
}

func ExampleValidateIDNumber() {
	for _, s := range []string{"11010519491231002X", "11010519491231002X"[:17] + "3", "110101199002301234"} {
		err := pii.ValidateIDNumber(s)
		switch {
		case err == nil:
			fmt.Println(s, "有效")
		case errors.Is(err, pii.ErrIDNumberChecksum), errors.Is(err, pii.ErrIDNumberBirthDate):
			fmt.Println(s, err)
		}
	}
	// Output:
	// 11010519491231002X 有效
	// 110105194912310023 身份证号码校验位错误，请检查是否输入有误
	// 110101199002301234 身份证号码中的出生日期无效
}

func ExampleMaskIDNumber() {
	fmt.Println(pii.MaskIDNumber("110101199003071234"))
	fmt.Println(pii.MaskName("欧阳娜娜"))
	fmt.Println(pii.MaskAddress("北京市朝阳区建国路88号"))
	// Output:
	// 110***********1234
	// 欧***
	// 北京市朝阳区******
}

// Log personal data through the masking types: the clear value never
// reaches the log.
func ExamplePhone() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // keep the example output stable
			}
			return a
		},
	}))
	log.Info("短信验证码已发送", "phone", pii.Phone("13812345678"), "name", pii.Name("张三"))
	// Output: {"level":"INFO","msg":"短信验证码已发送","phone":"138****5678","name":"张*"}
}
