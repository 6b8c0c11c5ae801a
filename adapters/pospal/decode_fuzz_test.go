package pospal

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecodeAnswer feeds arbitrary answers to the envelope, ticket-page and
// used-code-page decoders: they must return an error or a value, never panic.
func FuzzDecodeAnswer(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"status":"ERROR","messages":"one","errorCode":"3004"}`))
	f.Add([]byte(`{"status":"success","data":{"result":[{"uid":832101480292933201}],"pageSize":"100"}}`))
	f.Add([]byte(`{"status":"success","data":{"result":[{"code":"A1","usedByTicketUid":"","usedByProductOrderId":7}]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		env, err := decodeEnvelope(b)
		if err != nil {
			return
		}
		_ = env.code()
		var d struct {
			Result   []Ticket `json:"result"`
			PageSize int      `json:"pageSize"`
		}
		_ = decodeData("fuzz", env.Data, &d)
		var used pagedData[UsedCode]
		_ = decodeData("fuzz", env.Data, &used)
		_ = emptyPostBack(env.Data)
	})
}
