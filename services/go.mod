module github.com/loyaltybus/loyaltybus/services

go 1.26.0

require (
	github.com/loyaltybus/loyaltybus/adapters v0.0.0
	github.com/loyaltybus/loyaltybus/events v0.0.0
	github.com/loyaltybus/loyaltybus/pkg v0.0.0
)

replace github.com/loyaltybus/loyaltybus/events => ../events

replace github.com/loyaltybus/loyaltybus/pkg => ../pkg

replace github.com/loyaltybus/loyaltybus/adapters => ../adapters
