package notify

import "testing"

// The client's signer reproduces Aliyun's published examples exactly.
func TestRPCSignatureMatchesAliyunExamples(t *testing.T) {
	tests := map[string]struct {
		method, secret string
		params         map[string]string
		want           string
	}{
		// Dysmsapi "HTTP 协议及签名" example: SendSms by GET.
		"SendSms document example": {
			method: "GET", secret: "testSecret",
			params: map[string]string{
				"AccessKeyId": "testId", "Action": "SendSms", "Format": "XML", "OutId": "123",
				"PhoneNumbers": "15300000001", "RegionId": "cn-hangzhou", "SignName": "阿里云短信测试专用",
				"SignatureMethod": "HMAC-SHA1", "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
				"SignatureVersion": "1.0", "TemplateCode": "SMS_71390007", "TemplateParam": `{"customer":"test"}`,
				"Timestamp": "2017-07-12T02:42:19Z", "Version": "2017-05-25",
			},
			want: "zJDF+Lrzhj/ThnlvIToysFRq6t4=",
		},
		// The RPC signature document's example (ECS DescribeRegions).
		"RPC document example": {
			method: "GET", secret: "testsecret",
			params: map[string]string{
				"AccessKeyId": "testid", "Action": "DescribeRegions", "Format": "XML",
				"SignatureMethod": "HMAC-SHA1", "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
				"SignatureVersion": "1.0", "Timestamp": "2016-02-23T12:46:24Z", "Version": "2014-05-26",
			},
			want: "OLeaidS1JvxuMvnyHOwuJ+uX5qY=",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := rpcSignature(tc.method, tc.params, tc.secret); got != tc.want {
				t.Fatalf("signature = %s, want %s", got, tc.want)
			}
			withSig := map[string]string{"Signature": "ignored"}
			for k, v := range tc.params {
				withSig[k] = v
			}
			if got := rpcSignature(tc.method, withSig, tc.secret); got != tc.want {
				t.Fatalf("a Signature parameter changed the signature: %s", got)
			}
		})
	}
}

func TestPopEscapeFollowsPOPRules(t *testing.T) {
	tests := map[string]string{
		"AZaz09-_.~": "AZaz09-_.~",
		"a b":        "a%20b",
		"*":          "%2A",
		"/=&+:":      "%2F%3D%26%2B%3A",
		"派":          "%E6%B4%BE",
		`{"a":"1"}`:  "%7B%22a%22%3A%221%22%7D",
	}
	for in, want := range tests {
		if got := popEscape(in); got != want {
			t.Errorf("popEscape(%q) = %q, want %q", in, got, want)
		}
	}
}
