module github.com/loyaltybus/loyaltybus/events

go 1.26.0
