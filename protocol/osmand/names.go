package osmand

// Parameter names this codec sets beyond those package protocol names.
const (
	paramAccuracy     = "position.accuracy" // metres
	paramBatteryLevel = "battery.level"
	paramCharging     = "battery.charging.status"
	paramDriver       = "driver.id"
	paramCells        = "gsm.cells"
	paramWifi         = "wifi.access.points"
	paramMoving       = "movement.status"
	paramOdometer     = "gps.vehicle.mileage" // the app's distance, km
	paramSOS          = "sos.event.trigger"

	paramEvent    = "custom.event"    // motionchange, heartbeat, …
	paramActivity = "custom.activity" // still, walking, in_vehicle, …
	paramMock     = "custom.mock"     // the location came from a mock provider
	paramAlarm    = "custom.alarm"    // the alarm the app raised ("sos")
)
