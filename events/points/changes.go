package points

// Frozen is the data of a points.frozen event.
type Frozen struct {
	// FreezeID is the id of the freeze command, the token for unfreeze and consume.
	FreezeID    string `json:"freezeId"`
	MemberID    string `json:"memberId"`
	MemberType  string `json:"memberType"`
	ChannelType string `json:"channelType"`
	Points      int64  `json:"points"`
	Description string `json:"description,omitempty"`
	ShopCode    string `json:"shopCode,omitempty"`
}

// Unfrozen is the data of a points.unfrozen event.
type Unfrozen struct {
	FreezeID    string `json:"freezeId"`
	MemberID    string `json:"memberId"`
	MemberType  string `json:"memberType"`
	ChannelType string `json:"channelType"`
	Description string `json:"description,omitempty"`
	ShopCode    string `json:"shopCode,omitempty"`
}

// Consumed is the data of a points.consumed event.
type Consumed Unfrozen

// Adjusted is the data of a points.adjusted event.
type Adjusted struct {
	// AdjustmentID is the id of the adjust command (the vendor's X-Business-Token).
	AdjustmentID string `json:"adjustmentId"`
	MemberID     string `json:"memberId"`
	MemberType   string `json:"memberType"`
	ChannelType  string `json:"channelType"`
	ChangeType   string `json:"changeType"`
	Points       int64  `json:"points"`
	EventCode    string `json:"eventCode"`
	Description  string `json:"description,omitempty"`
	EffectTime   string `json:"effectTime,omitempty"`
	ExpiredTime  string `json:"expiredTime,omitempty"`
	ShopCode     string `json:"shopCode,omitempty"`
	PointType    string `json:"pointType,omitempty"`
	PointSource  string `json:"pointSource,omitempty"`
}
