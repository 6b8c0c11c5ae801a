package points

import "github.com/loyaltybus/loyaltybus/events"

// Freeze is the data of a points.freeze command. The command's CloudEvent id
// is the freeze token: later Unfreeze and Consume commands name it as FreezeID.
type Freeze struct {
	MemberID    string `json:"memberId"`
	MemberType  string `json:"memberType"`
	ChannelType string `json:"channelType"`
	Points      int64  `json:"points"`
	Description string `json:"description,omitempty"`
	ShopCode    string `json:"shopCode,omitempty"`
}

// Unfreeze is the data of a points.unfreeze command.
type Unfreeze struct {
	// FreezeID is the CloudEvent id of the points.freeze command being released.
	FreezeID    string `json:"freezeId"`
	MemberID    string `json:"memberId"`
	MemberType  string `json:"memberType"`
	ChannelType string `json:"channelType"`
	Description string `json:"description,omitempty"`
	ShopCode    string `json:"shopCode,omitempty"`
}

// Consume is the data of a points.consume command: it deducts the frozen points.
type Consume Unfreeze

// Adjust is the data of a points.adjust command: send or deduct points.
type Adjust struct {
	MemberID    string `json:"memberId"`
	MemberType  string `json:"memberType"`
	ChannelType string `json:"channelType"`
	ChangeType  string `json:"changeType"`
	Points      int64  `json:"points"`
	// EventCode is Shuyun's KZZD3, the change event type code.
	EventCode   string `json:"eventCode"`
	Description string `json:"description,omitempty"`
	// EffectTime and ExpiredTime are RFC 3339 with an offset, or yyyy-MM-dd HH:mm:ss in Asia/Shanghai.
	EffectTime  string `json:"effectTime,omitempty"`
	ExpiredTime string `json:"expiredTime,omitempty"`
	ShopCode    string `json:"shopCode,omitempty"`
	// PointType is Shuyun's KZZD1.
	PointType string `json:"pointType,omitempty"`
	// PointSource is Shuyun's KZZD2.
	PointSource string `json:"pointSource,omitempty"`
}

// Command reports the command this data belongs to.
func (Freeze) Command() events.Command { return FreezeCommand }

// Command reports the command this data belongs to.
func (Unfreeze) Command() events.Command { return UnfreezeCommand }

// Command reports the command this data belongs to.
func (Consume) Command() events.Command { return ConsumeCommand }

// Command reports the command this data belongs to.
func (Adjust) Command() events.Command { return AdjustCommand }
