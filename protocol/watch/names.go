package watch

// Parameter names this codec sets beyond those package protocol names.
// Names with a flespi equivalent use it; the rest carry the "custom."
// prefix, as flespi does for parameters without a common name.
const (
	paramSignal     = "gsm.signal.level" // 0–100
	paramBattery    = "battery.level"
	paramBatteryLow = "battery.low.status"
	paramMCC        = "gsm.mcc"
	paramMNC        = "gsm.mnc"
	paramLAC        = "gsm.lac"
	paramCellID     = "gsm.cellid"
	paramCells      = "gsm.cells"
	paramWifi       = "wifi.access.points"
	paramGeofence   = "geofence.inside.status"
	paramSOS        = "sos.event.trigger"
	paramAlarm      = "alarm.event.trigger"
	paramMoving     = "movement.status"

	paramSteps      = "custom.steps"
	paramTumbles    = "custom.tumbles" // the watch's roll-over (tumble) count
	paramStatus     = "custom.status.bitmask"
	paramTA         = "custom.timing.advance"
	paramAccuracy   = "custom.position.accuracy" // the last field of a location report, as sent
	paramRemoved    = "custom.watch.removed.event.trigger"
	paramFall       = "custom.fall.event.trigger"
	paramHeartRate  = "custom.heart.rate" // beats per minute
	paramSystolic   = "custom.blood.pressure.systolic"
	paramDiastolic  = "custom.blood.pressure.diastolic"
	paramOxygen     = "custom.blood.oxygen" // %
	paramBodyTemp   = "custom.body.temperature"
	paramReportType = "custom.report.type"  // UD, UD2, AL, LK, …
	paramMaker      = "custom.manufacturer" // the frame's two-letter maker code (SG, 3G, CS, ZJ, …)
	paramAudio      = "custom.audio.amr.hex"
	paramAudioName  = "custom.audio.name"
	paramAudioPart  = "custom.audio.part"
	paramAudioParts = "custom.audio.parts"
	paramImage      = "custom.image.jpeg.hex"
	paramTail       = "custom.report.tail"
)
