package coupon_test

import (
	"encoding/json"
	"fmt"

	"github.com/loyaltybus/loyaltybus/events/coupon"
)

// A publisher grants a Pospal coupon without choosing its code: the bus adds
// DerivedCode(command id), so a retry of the command re-adds the same code.
func ExampleGrant_pospal() {
	commandID := "0193a8e2-7c1e-7b4e-9f51-3a2d5c6e7f80"
	data, _ := json.Marshal(coupon.Grant{Provider: coupon.ProviderPospal, PromotionCouponUID: 886263699231969848})
	cmd := coupon.Grant{}.Command()
	fmt.Println(cmd.Subject, cmd.Type)
	fmt.Println(string(data))
	fmt.Println(coupon.DerivedCode(commandID))
	// Output:
	// loyalty.cmd.coupon.grant loyalty.coupon.grant.v1
	// {"provider":"pospal","promotionCouponUid":886263699231969848}
	// LBCZXY5WORZKFTTMCLOVTES5CP
}

// A publisher redeems a Shuyun coupon; params pass to the vendor verbatim.
func ExampleRedeem() {
	params, _ := json.Marshal(coupon.OperationParams{ShopCode: "10001", TicketNum: "T-42"})
	data, _ := json.Marshal(coupon.Redeem{CouponCode: "SDSDSZ1", MemberType: "shuyun", ChannelType: "POS", Params: params})
	fmt.Println(coupon.RedeemCommand.Subject)
	fmt.Println(string(data))
	// Output:
	// loyalty.cmd.coupon.redeem
	// {"couponCode":"SDSDSZ1","memberType":"shuyun","channelType":"POS","params":{"shopCode":"10001","ticketNum":"T-42"}}
}
