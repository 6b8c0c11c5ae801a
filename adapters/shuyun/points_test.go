package shuyun_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loyaltybus/loyaltybus/adapters/shuyun"
	"github.com/loyaltybus/loyaltybus/adapters/shuyun/shuyuntest"
)

var (
	member = "0040a85608844820900558fc2671cb7c"
	settle = shuyun.UnfreezeRequest{MemberID: member, MemberType: "shuyun", ChannelType: "POS", Description: "order 1"}
)

func freezeOf(points int64) shuyun.FreezeRequest {
	return shuyun.FreezeRequest{MemberID: member, MemberType: "shuyun", ChannelType: "POS", Point: points, Description: "order 1", ShopCode: "10001"}
}

func TestPointsHappyPaths(t *testing.T) {
	tests := []struct {
		name                  string
		run                   func(t *testing.T, c *shuyun.Client)
		wantAvail, wantFrozen int64
		wantPath              string
		wantMethod            string
	}{
		{
			name: "freeze",
			run: func(t *testing.T, c *shuyun.Client) {
				require.NoError(t, c.FreezePoints(t.Context(), "f1", freezeOf(30)))
			},
			wantAvail: 70, wantFrozen: 30, wantPath: shuyun.PathFreezePoints, wantMethod: "POST",
		},
		{
			name: "freeze then unfreeze",
			run: func(t *testing.T, c *shuyun.Client) {
				require.NoError(t, c.FreezePoints(t.Context(), "f1", freezeOf(30)))
				require.NoError(t, c.UnfreezePoints(t.Context(), "f1", settle))
			},
			wantAvail: 100, wantFrozen: 0, wantPath: shuyun.PathUnfreezePoints, wantMethod: "POST",
		},
		{
			name: "freeze then deduct",
			run: func(t *testing.T, c *shuyun.Client) {
				require.NoError(t, c.FreezePoints(t.Context(), "f1", freezeOf(30)))
				require.NoError(t, c.DeductFrozenPoints(t.Context(), "f1", settle))
			},
			wantAvail: 70, wantFrozen: 0, wantPath: shuyun.PathDeductFrozenPoints, wantMethod: "POST",
		},
		{
			name: "send",
			run: func(t *testing.T, c *shuyun.Client) {
				require.NoError(t, c.ChangePoints(t.Context(), "a1", shuyun.PointChange{
					MemberID: member, MemberType: "shuyun", ChannelType: "POS", ChangeType: shuyun.ChangeSend,
					Point: 20, EventCode: "E0001",
					ExpiredTime: shuyun.Time{Time: time.Date(2026, 11, 1, 0, 0, 0, 0, shuyun.ChinaStandardTime)},
				}))
			},
			wantAvail: 120, wantPath: shuyun.PathChangePoints, wantMethod: "PUT",
		},
		{
			name: "deduct",
			run: func(t *testing.T, c *shuyun.Client) {
				require.NoError(t, c.ChangePoints(t.Context(), "a1", shuyun.PointChange{
					MemberID: member, MemberType: "shuyun", ChannelType: "POS", ChangeType: shuyun.ChangeDeduct,
					Point: 20, EventCode: "E0001",
				}))
			},
			wantAvail: 80, wantPath: shuyun.PathChangePoints, wantMethod: "PUT",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := shuyuntest.NewServer(t)
			srv.SetBalance(member, 100)
			c := newClient(t, srv)
			tt.run(t, c)

			avail, frozen := srv.Balance(member)
			assert.Equal(t, tt.wantAvail, avail, "available")
			assert.Equal(t, tt.wantFrozen, frozen, "frozen")
			calls := srv.Calls(tt.wantPath)
			require.Len(t, calls, 1)
			assert.Equal(t, tt.wantMethod, calls[0].Method)
		})
	}
}

func TestChangePointsBody(t *testing.T) {
	// The doc's 3.7 example decodes into PointChange and encodes back to the same JSON.
	want := fixture(t, "points_change.json")
	var pc shuyun.PointChange
	require.NoError(t, json.Unmarshal(want, &pc))
	assert.Equal(t, "E0001", pc.EventCode)
	assert.Equal(t, time.Date(2021, 7, 13, 8, 36, 3, 0, shuyun.ChinaStandardTime).Unix(), pc.EffectTime.Unix())

	srv := shuyuntest.NewServer(t)
	c := newClient(t, srv)
	require.NoError(t, c.ChangePoints(t.Context(), "a1", pc))
	calls := srv.Calls(shuyun.PathChangePoints)
	require.Len(t, calls, 1)
	assert.JSONEq(t, string(want), string(calls[0].Body))
}

func TestFreezeBodiesMatchDocExamples(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
		path    string
		call    func(c *shuyun.Client, t *testing.T, body []byte) error
	}{
		{"freeze", "freeze_points.json", shuyun.PathFreezePoints, func(c *shuyun.Client, t *testing.T, body []byte) error {
			var r shuyun.FreezeRequest
			require.NoError(t, json.Unmarshal(body, &r))
			return c.FreezePoints(t.Context(), "tok", r)
		}},
		{"unfreeze", "unfreeze_points.json", shuyun.PathUnfreezePoints, func(c *shuyun.Client, t *testing.T, body []byte) error {
			var r shuyun.UnfreezeRequest
			require.NoError(t, json.Unmarshal(body, &r))
			return c.UnfreezePoints(t.Context(), "tok", r)
		}},
		{"deduct", "deduct_frozen_points.json", shuyun.PathDeductFrozenPoints, func(c *shuyun.Client, t *testing.T, body []byte) error {
			var r shuyun.UnfreezeRequest
			require.NoError(t, json.Unmarshal(body, &r))
			return c.DeductFrozenPoints(t.Context(), "tok", r)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := shuyuntest.NewServer(t)
			c := newClient(t, srv)
			if tt.path != shuyun.PathFreezePoints {
				var r shuyun.FreezeRequest
				require.NoError(t, json.Unmarshal(fixture(t, "freeze_points.json"), &r))
				require.NoError(t, c.FreezePoints(t.Context(), "tok", r))
			}
			want := fixture(t, tt.fixture)
			require.NoError(t, tt.call(c, t, want))
			calls := srv.Calls(tt.path)
			require.Len(t, calls, 1)
			assert.JSONEq(t, string(want), string(calls[0].Body))
		})
	}
}

func TestTokenReplayGivesOneEffect(t *testing.T) {
	tests := []struct {
		name string
		path string
		call func(t *testing.T, c *shuyun.Client) error
	}{
		{"freeze", shuyun.PathFreezePoints, func(t *testing.T, c *shuyun.Client) error {
			return c.FreezePoints(t.Context(), "tok", freezeOf(10))
		}},
		{"change", shuyun.PathChangePoints, func(t *testing.T, c *shuyun.Client) error {
			return c.ChangePoints(t.Context(), "tok", shuyun.PointChange{MemberID: member, MemberType: "shuyun",
				ChannelType: "POS", ChangeType: shuyun.ChangeDeduct, Point: 10, EventCode: "E1"})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := shuyuntest.NewServer(t)
			srv.SetBalance(member, 100)
			c := newClient(t, srv)
			for range 3 {
				require.NoError(t, tt.call(t, c))
			}
			assert.Equal(t, 1, srv.EffectCount(tt.path, "tok"))
			avail, _ := srv.Balance(member)
			assert.Equal(t, int64(90), avail)
			assert.Len(t, srv.Calls(tt.path), 3)
		})
	}
}

func TestReplayModes(t *testing.T) {
	t.Run("token error", func(t *testing.T) {
		srv := shuyuntest.NewServer(t, shuyuntest.Options{ReplayMode: shuyuntest.TokenError})
		c := newClient(t, srv)
		require.NoError(t, c.FreezePoints(t.Context(), "tok", freezeOf(10)))
		err := c.FreezePoints(t.Context(), "tok", freezeOf(10))
		cl := classify(t, err)
		assert.False(t, cl.Temporary())
		_, _, code, _ := cl.VendorDetail()
		assert.Equal(t, shuyuntest.CodeDuplicateToken, code)
		assert.Equal(t, 1, srv.EffectCount(shuyun.PathFreezePoints, "tok"))
	})
	t.Run("no dedup", func(t *testing.T) {
		srv := shuyuntest.NewServer(t, shuyuntest.Options{ReplayMode: shuyuntest.NoDedup})
		c := newClient(t, srv)
		require.NoError(t, c.FreezePoints(t.Context(), "tok", freezeOf(10)))
		require.NoError(t, c.FreezePoints(t.Context(), "tok", freezeOf(10)))
		assert.Equal(t, 2, srv.EffectCount(shuyun.PathFreezePoints, "tok"))
		_, frozen := srv.Balance(member)
		assert.Equal(t, int64(20), frozen)
	})
}

func TestSettlementRefusals(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(t *testing.T, c *shuyun.Client)
		call     func(t *testing.T, c *shuyun.Client) error
		wantCode string
	}{
		{
			name:     "unfreeze unknown token",
			call:     func(t *testing.T, c *shuyun.Client) error { return c.UnfreezePoints(t.Context(), "nope", settle) },
			wantCode: shuyuntest.CodeUnknownFreeze,
		},
		{
			name:     "deduct unknown token",
			call:     func(t *testing.T, c *shuyun.Client) error { return c.DeductFrozenPoints(t.Context(), "nope", settle) },
			wantCode: shuyuntest.CodeUnknownFreeze,
		},
		{
			name: "consume after unfreeze",
			setup: func(t *testing.T, c *shuyun.Client) {
				require.NoError(t, c.FreezePoints(t.Context(), "f", freezeOf(10)))
				require.NoError(t, c.UnfreezePoints(t.Context(), "f", settle))
			},
			call:     func(t *testing.T, c *shuyun.Client) error { return c.DeductFrozenPoints(t.Context(), "f", settle) },
			wantCode: shuyuntest.CodeFreezeSettled,
		},
		{
			name: "unfreeze after consume",
			setup: func(t *testing.T, c *shuyun.Client) {
				require.NoError(t, c.FreezePoints(t.Context(), "f", freezeOf(10)))
				require.NoError(t, c.DeductFrozenPoints(t.Context(), "f", settle))
			},
			call:     func(t *testing.T, c *shuyun.Client) error { return c.UnfreezePoints(t.Context(), "f", settle) },
			wantCode: shuyuntest.CodeFreezeSettled,
		},
		{
			name: "another member's freeze",
			setup: func(t *testing.T, c *shuyun.Client) {
				require.NoError(t, c.FreezePoints(t.Context(), "f", freezeOf(10)))
			},
			call: func(t *testing.T, c *shuyun.Client) error {
				other := settle
				other.MemberID = "someone-else"
				return c.UnfreezePoints(t.Context(), "f", other)
			},
			wantCode: shuyuntest.CodeFreezeMismatch,
		},
		{
			name:     "insufficient points",
			call:     func(t *testing.T, c *shuyun.Client) error { return c.FreezePoints(t.Context(), "f", freezeOf(5000)) },
			wantCode: shuyuntest.CodeInsufficientPoints,
		},
		{
			name: "member id too long",
			call: func(t *testing.T, c *shuyun.Client) error {
				r := freezeOf(1)
				r.MemberID += "x"
				return c.FreezePoints(t.Context(), "f", r)
			},
			wantCode: "010407",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := shuyuntest.NewServer(t)
			c := newClient(t, srv)
			if tt.setup != nil {
				tt.setup(t, c)
			}
			err := tt.call(t, c)
			cl := classify(t, err)
			assert.False(t, cl.Temporary(), "a refusal is permanent")
			vendor, status, code, msg := cl.VendorDetail()
			assert.Equal(t, "shuyun", vendor)
			assert.Equal(t, 400, status)
			assert.Equal(t, tt.wantCode, code)
			assert.NotEmpty(t, msg)
			var apiErr *shuyun.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, "Solution Package", apiErr.Module)
		})
	}
}
