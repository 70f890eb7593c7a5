package teltonika

// The AVL ID table: which IO elements get a flespi name, and how their raw
// bytes become a value. It is data only; ioelements.go reads it.
//
// Source: Teltonika's "<model> Teltonika Data Sending Parameters ID" wiki
// pages (FMB920, FMB225, FMC225, FMC650 and the models they link to: the
// FMB0/1/2/9, FMC/FMM 0/1/2/8/9, FMT, FMP, FMU and MSP lists, which share one
// numbering, and the FMB64x/FMC64x/FMC650/FMM64x/FMM650 "FMX6" lists, which
// have their own). Each row gives an ID's meaning on one list family:
//
//   - a name: the ID means the same on every list of that family (the
//     comment quotes Teltonika's property name, size, type and unit);
//   - "": no common name, but the list types the value signed, so
//     custom.param.<id> is read as two's complement rather than unsigned.
//
// Scales turn Teltonika's units into the catalogue's: mV → V, m → km,
// 0.1 °C → °C, minutes → hours. Where an FMX6 list gives no multiplier, the
// value range decides: analog inputs and voltages of 0..30000 are mV, Dallas
// temperatures of -550..1150 are 0.1 °C. IDs without a row keep
// custom.param.<id> with their raw unsigned value.
//
// One ID is named though a list disagrees: 66 (external voltage) is 0.001 V
// on every FMB list but FMB930's, which says 0.01 V; the table follows the
// others.
var ioTable = [...]ioRow{
	{1, famAll, ioBool, scaleNone, "din#1"},                                // Digital Input 1, 1 B unsigned
	{2, famAll, ioBool, scaleNone, "din#2"},                                // Digital Input 2, 1 B unsigned
	{3, famAll, ioBool, scaleNone, "din#3"},                                // Digital Input 3, 1 B unsigned
	{4, famFMX6, ioBool, scaleNone, "din#4"},                               // Digital Input 4, 1 B unsigned
	{5, famFMX6, ioHex, scaleNone, "onewire.sensor.id#5"},                  // Dallas Temperature ID 5, 8 B unsigned
	{6, famFMB, ioUnsigned, scaleDiv1000, "ain#2"},                         // Analog Input 2, 2 B unsigned, ×0.001 V
	{6, famFMX6, ioSigned, scaleDiv10, "temperature#5"},                    // Dallas Temperature 5, 2 B signed °C
	{7, famFMX6, ioHex, scaleNone, "onewire.sensor.id#6"},                  // Dallas Temperature ID 6, 8 B unsigned
	{8, famFMX6, ioSigned, scaleDiv10, "temperature#6"},                    // Dallas Temperature 6, 2 B signed °C
	{9, famAll, ioUnsigned, scaleDiv1000, "ain#1"},                         // Analog Input 1, 2 B unsigned, ×0.001 V
	{10, famFMX6, ioUnsigned, scaleDiv1000, "ain#2"},                       // Analog Input 2, 2 B unsigned V
	{11, famFMX6, ioUnsigned, scaleDiv1000, "ain#3"},                       // Analog Input 3, 2 B unsigned V
	{16, famFMB, ioUnsigned, scaleDiv1000, "vehicle.mileage"},              // Total Odometer, 4 B unsigned
	{17, famFMB, ioSigned, scaleNone, ""},                                  // Axis X, 2 B signed mG
	{18, famFMB, ioSigned, scaleNone, ""},                                  // Axis Y, 2 B signed mG
	{19, famFMB, ioSigned, scaleNone, ""},                                  // Axis Z, 2 B signed mG
	{20, famFMB, ioUnsigned, scaleNone, "ble.sensor.battery.level#2"},      // BLE Battery #2, 1 B unsigned %
	{21, famAll, ioUnsigned, scaleNone, "gsm.signal.level"},                // GSM Signal, 1 B unsigned
	{22, famFMB, ioUnsigned, scaleNone, "ble.sensor.battery.level#3"},      // BLE Battery #3, 1 B unsigned %
	{22, famFMX6, ioUnsigned, scaleNone, "data.mode.enum"},                 // Data Mode, 1 B unsigned
	{23, famFMB, ioUnsigned, scaleNone, "ble.sensor.battery.level#4"},      // BLE Battery #4, 1 B unsigned %
	{25, famFMB, ioSigned, scaleDiv100, "ble.sensor.temperature#1"},        // BLE Temperature #1, 2 B signed, ×0.01 °C
	{25, famFMX6, ioSigned, scaleNone, ""},                                 // Engine Temperature, 2 B signed °C
	{26, famFMB, ioSigned, scaleDiv100, "ble.sensor.temperature#2"},        // BLE Temperature #2, 2 B signed, ×0.01 °C
	{27, famFMB, ioSigned, scaleDiv100, "ble.sensor.temperature#3"},        // BLE Temperature #3, 2 B signed, ×0.01 °C
	{28, famFMB, ioSigned, scaleDiv100, "ble.sensor.temperature#4"},        // BLE Temperature #4, 2 B signed, ×0.01 °C
	{29, famFMB, ioUnsigned, scaleNone, "ble.sensor.battery.level#1"},      // BLE Battery #1, 1 B unsigned %
	{30, famFMB, ioUnsigned, scaleNone, "obd.dtc.count"},                   // Number of DTC, 1 B unsigned
	{31, famFMB, ioUnsigned, scaleNone, "obd.engine.load.level"},           // Engine Load, 1 B unsigned %
	{32, famFMB, ioSigned, scaleNone, "obd.engine.coolant.temperature"},    // Coolant Temperature, 1 B signed °C
	{33, famFMB, ioSigned, scaleNone, ""},                                  // Short Fuel Trim, 1 B signed %
	{34, famFMB, ioUnsigned, scaleNone, "obd.fuel.pressure"},               // Fuel pressure, 2 B unsigned kPa
	{36, famFMB, ioUnsigned, scaleNone, "obd.engine.rpm"},                  // Engine RPM, 2 B unsigned rpm
	{37, famFMB, ioUnsigned, scaleNone, "obd.vehicle.speed"},               // Vehicle Speed, 1 B unsigned km/h
	{38, famFMB, ioSigned, scaleNone, ""},                                  // Timing Advance, 1 B signed °
	{39, famFMB, ioSigned, scaleNone, "obd.intake.air.temperature"},        // Intake Air Temperature, 1 B signed °C
	{41, famFMB, ioUnsigned, scaleNone, "obd.throttle.position"},           // Throttle Position, 1 B unsigned %
	{47, famFMB, ioSigned, scaleNone, ""},                                  // EGR Error, 1 B signed %
	{48, famFMB, ioUnsigned, scaleNone, "obd.fuel.level"},                  // Fuel Level, 1 B unsigned %
	{50, famFMX6, ioBool, scaleNone, "dout#3"},                             // Digital Output 3, 1 B unsigned
	{51, famFMX6, ioBool, scaleNone, "dout#4"},                             // Digital Output 4, 1 B unsigned
	{53, famFMB, ioSigned, scaleNone, "obd.ambient.air.temperature"},       // Ambient Air Temperature, 1 B signed °C
	{58, famFMB, ioUnsigned, scaleNone, "obd.engine.oil.temperature"},      // Engine Oil Temperature, 1 B unsigned °C
	{59, famFMB, ioSigned, scaleNone, ""},                                  // Fuel injection timing, 2 B signed, ×0.01 °
	{60, famFMB, ioUnsigned, scaleDiv100, "obd.fuel.rate"},                 // Fuel Rate, 2 B unsigned, ×0.01 L/h
	{62, famFMX6, ioHex, scaleNone, "onewire.sensor.id#1"},                 // Dallas Temperature ID 1, 8 B unsigned
	{63, famFMX6, ioHex, scaleNone, "onewire.sensor.id#2"},                 // Dallas Temperature ID 2, 8 B unsigned
	{64, famFMX6, ioHex, scaleNone, "onewire.sensor.id#3"},                 // Dallas Temperature ID 3, 8 B unsigned
	{65, famFMX6, ioHex, scaleNone, "onewire.sensor.id#4"},                 // Dallas Temperature ID 4, 8 B unsigned
	{66, famAll, ioUnsigned, scaleDiv1000, "external.powersource.voltage"}, // External Voltage, 2 B unsigned, ×0.001 V
	{67, famAll, ioUnsigned, scaleDiv1000, "battery.voltage"},              // Battery Voltage, 2 B unsigned, ×0.001 V
	{68, famAll, ioUnsigned, scaleDiv1000, "battery.current"},              // Battery Current, 2 B unsigned, ×0.001 A
	{69, famFMB, ioUnsigned, scaleNone, "gnss.state.enum"},                 // GNSS Status, 1 B unsigned
	{70, famFMX6, ioSigned, scaleDiv10, "device.temperature"},              // PCB Temperature, 2 B signed °C
	{71, famFMB, ioHex, scaleNone, "onewire.sensor.id#4"},                  // Dallas Temperature ID 4, 8 B unsigned
	{71, famFMX6, ioUnsigned, scaleNone, "gnss.state.enum"},                // GNSS Status, 1 B unsigned
	{72, famAll, ioSigned, scaleDiv10, "temperature#1"},                    // Dallas Temperature 1, 4 B signed, ×0.1 °C
	{73, famAll, ioSigned, scaleDiv10, "temperature#2"},                    // Dallas Temperature 2, 4 B signed, ×0.1 °C
	{74, famAll, ioSigned, scaleDiv10, "temperature#3"},                    // Dallas Temperature 3, 4 B signed, ×0.1 °C
	{75, famAll, ioSigned, scaleDiv10, "temperature#4"},                    // Dallas Temperature 4, 4 B signed, ×0.1 °C
	{76, famFMB, ioHex, scaleNone, "onewire.sensor.id#1"},                  // Dallas Temperature ID 1, 8 B unsigned
	{77, famFMB, ioHex, scaleNone, "onewire.sensor.id#2"},                  // Dallas Temperature ID 2, 8 B unsigned
	{78, famAll, ioHex, scaleNone, "ibutton.code"},                         // iButton, 8 B unsigned
	{79, famFMB, ioHex, scaleNone, "onewire.sensor.id#3"},                  // Dallas Temperature ID 3, 8 B unsigned
	{80, famFMB, ioUnsigned, scaleNone, "data.mode.enum"},                  // Data Mode, 1 B unsigned
	{81, famFMB, ioUnsigned, scaleNone, "can.vehicle.speed"},               // Vehicle Speed, 1 B unsigned km/h
	{82, famFMB, ioUnsigned, scaleNone, "can.accelerator.pedal.position"},  // Accelerator Pedal Position, 1 B unsigned %
	{83, famFMB, ioUnsigned, scaleDiv10, "can.fuel.consumed"},              // Fuel Consumed, 4 B unsigned, ×0.1 l
	{84, famFMB, ioUnsigned, scaleDiv10, "can.fuel.volume"},                // Fuel Level, 2 B unsigned, ×0.1 l
	{85, famFMB, ioUnsigned, scaleNone, "can.engine.rpm"},                  // Engine RPM, 2 B unsigned rpm
	{86, famFMB, ioUnsigned, scaleDiv10, "ble.sensor.humidity#1"},          // BLE Humidity #1, 2 B unsigned, ×0.1 %RH
	{87, famFMB, ioUnsigned, scaleDiv1000, "can.vehicle.mileage"},          // Total Mileage, 4 B unsigned m
	{89, famFMB, ioUnsigned, scaleNone, "can.fuel.level"},                  // Fuel level, 1 B unsigned %
	{90, famFMB, ioUnsigned, scaleNone, "can.doors.bitmask"},               // Door Status, 2 B unsigned
	{102, famFMB, ioUnsigned, scaleDiv60, "can.engine.motorhours"},         // Engine Worktime, 4 B unsigned min
	{104, famFMB, ioUnsigned, scaleDiv10, "ble.sensor.humidity#2"},         // BLE Humidity #2, 2 B unsigned, ×0.1 %RH
	{106, famFMB, ioUnsigned, scaleDiv10, "ble.sensor.humidity#3"},         // BLE Humidity #3, 2 B unsigned, ×0.1 %RH
	{108, famFMB, ioUnsigned, scaleDiv10, "ble.sensor.humidity#4"},         // BLE Humidity #4, 2 B unsigned, ×0.1 %RH
	{110, famFMB, ioUnsigned, scaleDiv10, "can.fuel.rate"},                 // Fuel Rate, 2 B unsigned, ×0.1 l/h
	{111, famFMB, ioUnsigned, scaleNone, "can.adblue.level"},               // AdBlue Level, 1 B unsigned %
	{112, famFMB, ioUnsigned, scaleDiv10, "can.adblue.volume"},             // AdBlue Level, 2 B unsigned, ×0.1 l
	{113, famFMB, ioUnsigned, scaleNone, "battery.level"},                  // Battery Level, 1 B unsigned %
	{113, famFMX6, ioSigned, scaleNone, ""},                                // Service Distance, 4 B signed km
	{114, famFMB, ioUnsigned, scaleNone, "can.engine.load.level"},          // Engine Load, 1 B unsigned %
	{115, famFMB, ioSigned, scaleDiv10, "can.engine.temperature"},          // Engine Temperature, 2 B signed, ×0.1 °C
	{118, famFMB, ioUnsigned, scaleNone, "can.axle.weight#1"},              // Axle 1 Load, 2 B unsigned kg
	{119, famFMB, ioUnsigned, scaleNone, "can.axle.weight#2"},              // Axle 2 Load, 2 B unsigned kg
	{120, famFMB, ioUnsigned, scaleNone, "can.axle.weight#3"},              // Axle 3 Load, 2 B unsigned kg
	{121, famFMB, ioUnsigned, scaleNone, "can.axle.weight#4"},              // Axle 4 Load, 2 B unsigned kg
	{122, famFMB, ioUnsigned, scaleNone, "can.axle.weight#5"},              // Axle 5 Load, 2 B unsigned kg
	{124, famFMB, ioUnsigned, scaleNone, "agro.vehicle.state.bitmask"},     // Agricultural Machinery Flags, 8 B unsigned
	{127, famFMX6, ioSigned, scaleNone, ""},                                // Engine Coolant Temperature, 1 B signed °C
	{128, famFMX6, ioSigned, scaleNone, ""},                                // Ambient Air Temperature, 2 B signed °C
	{151, famFMB, ioSigned, scaleNone, ""},                                 // Battery Temperature, 2 B signed, ×0.1 °C
	{161, famFMB, ioSigned, scaleNone, ""},                                 // Slope of Arm, 2 B signed Degrees °
	{162, famFMB, ioSigned, scaleNone, ""},                                 // Rotation of Arm, 2 B signed Degrees °
	{179, famAll, ioBool, scaleNone, "dout#1"},                             // Digital Output 1, 1 B unsigned
	{180, famAll, ioBool, scaleNone, "dout#2"},                             // Digital Output 2, 1 B unsigned
	{181, famAll, ioUnsigned, scaleDiv10, "position.pdop"},                 // GNSS PDOP, 2 B unsigned, ×0.1
	{182, famAll, ioUnsigned, scaleDiv10, "position.hdop"},                 // GNSS HDOP, 2 B unsigned, ×0.1
	{199, famAll, ioUnsigned, scaleDiv1000, "vehicle.trip.mileage"},        // Trip Odometer, 4 B unsigned m
	{200, famAll, ioUnsigned, scaleNone, "sleep.mode.enum"},                // Sleep Mode, 1 B unsigned
	{201, famAll, ioSigned, scaleNone, "lls.fuel.level#1"},                 // LLS 1 Fuel Level, 2 B signed kvants or ltr
	{202, famAll, ioSigned, scaleNone, "lls.temperature#1"},                // LLS 1 Temperature, 1 B signed °C
	{203, famAll, ioSigned, scaleNone, "lls.fuel.level#2"},                 // LLS 2 Fuel Level, 2 B signed kvants or ltr
	{204, famAll, ioSigned, scaleNone, "lls.temperature#2"},                // LLS 2 Temperature, 1 B signed °C
	{205, famAll, ioUnsigned, scaleNone, "gsm.cellid"},                     // GSM Cell ID, 2 B unsigned
	{206, famAll, ioUnsigned, scaleNone, "gsm.lac"},                        // GSM Area Code, 2 B unsigned
	{210, famAll, ioSigned, scaleNone, "lls.fuel.level#3"},                 // LLS 3 Fuel Level, 2 B unsigned kvants or ltr
	{211, famAll, ioSigned, scaleNone, "lls.temperature#3"},                // LLS 3 Temperature, 1 B signed °C
	{212, famAll, ioSigned, scaleNone, "lls.fuel.level#4"},                 // LLS 4 Fuel Level, 2 B signed kvants or ltr
	{213, famAll, ioSigned, scaleNone, "lls.temperature#4"},                // LLS 4 Temperature, 1 B signed °C
	{214, famAll, ioSigned, scaleNone, "lls.fuel.level#5"},                 // LLS 5 Fuel Level, 2 B signed kvants or ltr
	{215, famAll, ioSigned, scaleNone, "lls.temperature#5"},                // LLS 5 Temperature, 1 B signed °C
	{216, famFMX6, ioUnsigned, scaleDiv1000, "vehicle.mileage"},            // Total Odometer, 4 B unsigned m
	{224, famFMX6, ioSigned, scaleNone, ""},                                // Ultrasonic Fuel Level 1, 2 B signed mm
	{225, famFMX6, ioSigned, scaleNone, ""},                                // Ultrasonic Fuel Level 2, 2 B signed mm
	{236, famFMB, ioBool, scaleNone, "alarm.event.trigger"},                // Alarm, 1 B unsigned
	{236, famFMX6, ioSigned, scaleNone, ""},                                // Axis X, 2 B signed mG
	{237, famFMX6, ioSigned, scaleNone, ""},                                // Axis Y, 2 B signed mG
	{238, famFMX6, ioSigned, scaleNone, ""},                                // Axis Z, 2 B signed mG
	{239, famAll, ioBool, scaleNone, "engine.ignition.status"},             // Ignition, 1 B unsigned
	{240, famAll, ioBool, scaleNone, "movement.status"},                    // Movement, 1 B unsigned
	{241, famAll, ioOperator, scaleNone, "gsm.operator.code"},              // Active GSM Operator, 4 B unsigned
	{245, famFMX6, ioUnsigned, scaleDiv1000, "ain#4"},                      // Analog Input 4, 2 B unsigned V
	{246, famFMB, ioBool, scaleNone, "towing.event.trigger"},               // Towing, 1 B unsigned
	{249, famAll, ioBool, scaleNone, "gsm.jamming.event.trigger"},          // Jamming, 1 B unsigned
	{256, famFMB, ioText, scaleNone, "vehicle.vin"},                        // VIN, 17 B ascii
	{264, famFMB, ioText, scaleNone, "barcode.id"},                         // Barcode ID, -1 B ascii
	{269, famFMB, ioSigned, scaleNone, ""},                                 // Escort LLS Temperature #1, 1 B signed °C
	{272, famFMB, ioSigned, scaleNone, ""},                                 // Escort LLS Temperature #2, 1 B signed °C
	{275, famFMB, ioSigned, scaleNone, ""},                                 // Escort LLS Temperature #3, 1 B signed °C
	{278, famFMB, ioSigned, scaleNone, ""},                                 // Escort LLS Temperature #4, 1 B signed °C
	{327, famFMB, ioSigned, scaleNone, ""},                                 // UL202-02 Sensor Fuel level, 2 B signed, ×0.1 mm
	{380, famFMB, ioBool, scaleNone, "dout#3"},                             // Digital output 3, 1 B unsigned
	{484, famFMX6, ioSigned, scaleNone, ""},                                // External Sensor Temperature 1, 2 B signed °C
	{485, famFMX6, ioSigned, scaleNone, ""},                                // External Sensor Temperature 2, 2 B signed °C
	{486, famFMX6, ioSigned, scaleNone, ""},                                // External Sensor Temperature 3, 2 B signed °C
	{487, famFMX6, ioSigned, scaleNone, ""},                                // External Sensor Temperature 4, 2 B signed °C
	{488, famFMX6, ioSigned, scaleNone, ""},                                // External Sensor Temperature 5, 2 B signed °C
	{489, famFMX6, ioSigned, scaleNone, ""},                                // External Sensor Temperature 6, 2 B signed °C
	{500, famFMX6, ioSigned, scaleNone, ""},                                // Slope Of Arm, 2 B signed °
	{501, famFMX6, ioSigned, scaleNone, ""},                                // Rotation Of Arm, 2 B signed °
	{544, famFMB, ioSigned, scaleNone, ""},                                 // Hybrid System Current, 2 B signed A
	{701, famFMX6, ioSigned, scaleNone, ""},                                // BLE 1 Temperature, 2 B signed, ×0.1 °C
	{702, famFMX6, ioSigned, scaleNone, ""},                                // BLE 2 Temperature, 2 B signed, ×0.1 °C
	{703, famFMX6, ioSigned, scaleNone, ""},                                // BLE 3 Temperature, 2 B signed, ×0.1 °C
	{704, famFMX6, ioSigned, scaleNone, ""},                                // BLE 4 Temperature, 2 B signed, ×0.1 °C
	{1152, famFMB, ioSigned, scaleNone, ""},                                // OEM Battery Temperature, 2 B signed °C
	{10047, famFMX6, ioSigned, scaleNone, ""},                              // Zone 1 Return Air Sensor 1, 2 B signed °C
	{10048, famFMX6, ioSigned, scaleNone, ""},                              // Zone 1 Supply Air Sensor 1, 2 B signed °C
	{10049, famFMX6, ioSigned, scaleNone, ""},                              // Zone 1 Set Temperature, 2 B signed °C
	{10050, famFMX6, ioSigned, scaleNone, ""},                              // Zone 1 Evaporator temperature, 2 B signed °C
	{10051, famFMX6, ioSigned, scaleNone, ""},                              // Zone 1 Return Air Sensor 2, 2 B signed °C
	{10052, famFMX6, ioSigned, scaleNone, ""},                              // Zone 1 Supply Air Sensor 2, 2 B signed °C
	{10056, famFMX6, ioSigned, scaleNone, ""},                              // Zone 2 Return Air Sensor 1, 2 B signed °C
	{10057, famFMX6, ioSigned, scaleNone, ""},                              // Zone 2 Supply Air Sensor 1, 2 B signed °C
	{10058, famFMX6, ioSigned, scaleNone, ""},                              // Zone 2 Set Temperature, 2 B signed °C
	{10059, famFMX6, ioSigned, scaleNone, ""},                              // Zone 2 Evaporator temperature, 2 B signed °C
	{10060, famFMX6, ioSigned, scaleNone, ""},                              // Zone 2 Return Air sensor 2, 2 B signed °C
	{10061, famFMX6, ioSigned, scaleNone, ""},                              // Zone 2 Supply Air sensor 2, 2 B signed °C
	{10065, famFMX6, ioSigned, scaleNone, ""},                              // Zone 3 Return Air sensor 1, 2 B signed °C
	{10066, famFMX6, ioSigned, scaleNone, ""},                              // Zone 3 Supply Air sensor 1, 2 B signed °C
	{10067, famFMX6, ioSigned, scaleNone, ""},                              // Zone 3 Set Temperature, 2 B signed °C
	{10068, famFMX6, ioSigned, scaleNone, ""},                              // Zone 3 Evaporator temperature, 2 B signed °C
	{10069, famFMX6, ioSigned, scaleNone, ""},                              // Zone 3 Return Air sensor 2, 2 B signed °C
	{10070, famFMX6, ioSigned, scaleNone, ""},                              // Zone 3 Supply Air sensor 2, 2 B signed °C
	{10350, famFMX6, ioSigned, scaleNone, ""},                              // Ambient Air Temperature, 2 B signed °C
	{10351, famFMX6, ioSigned, scaleNone, ""},                              // Compressor Coolant Temperature, 2 B signed °C
	{10481, famFMX6, ioSigned, scaleNone, ""},                              // External Temperature 1, 2 B signed °C
	{10482, famFMX6, ioSigned, scaleNone, ""},                              // External Temperature 2, 2 B signed °C
	{10483, famFMX6, ioSigned, scaleNone, ""},                              // External Temperature 3, 2 B signed °C
	{10484, famFMX6, ioSigned, scaleNone, ""},                              // External Temperature 4, 2 B signed °C
	{10485, famFMX6, ioSigned, scaleNone, ""},                              // External Temperature 5, 2 B signed °C
	{10486, famFMX6, ioSigned, scaleNone, ""},                              // External Temperature 6, 2 B signed °C
	{10644, famFMX6, ioSigned, scaleNone, ""},                              // Temperature Probe 1, 2 B signed
	{10645, famFMX6, ioSigned, scaleNone, ""},                              // Temperature Probe 2, 2 B signed
	{10646, famFMX6, ioSigned, scaleNone, ""},                              // Temperature Probe 3, 2 B signed
	{10647, famFMX6, ioSigned, scaleNone, ""},                              // Temperature Probe 4, 2 B signed
	{10648, famFMX6, ioSigned, scaleNone, ""},                              // Temperature Probe 5, 2 B signed
	{10649, famFMX6, ioSigned, scaleNone, ""},                              // Temperature Probe 6, 2 B signed
	{10683, famFMX6, ioSigned, scaleNone, ""},                              // Temperature 1, 2 B signed, ×0.1 °C
	{10684, famFMX6, ioSigned, scaleNone, ""},                              // Temperature 2, 2 B signed, ×0.1 °C
	{10685, famFMX6, ioSigned, scaleNone, ""},                              // Temperature 3, 2 B signed, ×0.1 °C
	{10686, famFMX6, ioSigned, scaleNone, ""},                              // Temperature 4, 2 B signed, ×0.1 °C
	{10695, famFMX6, ioSigned, scaleNone, ""},                              // Input 1, 2 B signed, ×0.1 °C
	{10696, famFMX6, ioSigned, scaleNone, ""},                              // Input 2, 2 B signed, ×0.1 °C
	{10697, famFMX6, ioSigned, scaleNone, ""},                              // Input 3, 2 B signed, ×0.1 °C
	{10698, famFMX6, ioSigned, scaleNone, ""},                              // Input 4, 2 B signed, ×0.1 °C
	{10699, famFMX6, ioSigned, scaleNone, ""},                              // Input 5, 2 B signed, ×0.1 °C
	{10700, famFMX6, ioSigned, scaleNone, ""},                              // Input 6, 2 B signed, ×0.1 °C
	{10701, famFMX6, ioSigned, scaleNone, ""},                              // Setpoint 1, 2 B signed, ×0.1 °C
	{10702, famFMX6, ioSigned, scaleNone, ""},                              // Setpoint 2, 2 B signed, ×0.1 °C
	{10703, famFMX6, ioSigned, scaleNone, ""},                              // Setpoint 3, 2 B signed, ×0.1 °C
	{10800, famFMB, ioSigned, scaleDiv100, "eye.sensor.temperature#1"},     // EYE Temperature 1, 2 B signed, ×0.01 °C
	{10801, famFMB, ioSigned, scaleDiv100, "eye.sensor.temperature#2"},     // EYE Temperature 2, 2 B signed, ×0.01 °C
	{10802, famFMB, ioSigned, scaleDiv100, "eye.sensor.temperature#3"},     // EYE Temperature 3, 2 B signed, ×0.01 °C
	{10803, famFMB, ioSigned, scaleDiv100, "eye.sensor.temperature#4"},     // EYE Temperature 4, 2 B signed, ×0.01 °C
	{10804, famFMB, ioUnsigned, scaleNone, "eye.sensor.humidity#1"},        // EYE Humidity 1, 1 B unsigned %
	{10805, famFMB, ioUnsigned, scaleNone, "eye.sensor.humidity#2"},        // EYE Humidity 2, 1 B unsigned %
	{10806, famFMB, ioUnsigned, scaleNone, "eye.sensor.humidity#3"},        // EYE Humidity 3, 1 B unsigned %
	{10807, famFMB, ioUnsigned, scaleNone, "eye.sensor.humidity#4"},        // EYE Humidity 4, 1 B unsigned %
	{10816, famFMB, ioSigned, scaleNone, ""},                               // EYE Pitch 1, 1 B signed
	{10817, famFMB, ioSigned, scaleNone, ""},                               // EYE Pitch 2, 1 B signed
	{10818, famFMB, ioSigned, scaleNone, ""},                               // EYE Pitch 3, 1 B signed
	{10819, famFMB, ioSigned, scaleNone, ""},                               // EYE Pitch 4, 1 B signed
	{10832, famFMB, ioSigned, scaleNone, ""},                               // EYE Roll 1, 2 B signed
	{10833, famFMB, ioSigned, scaleNone, ""},                               // EYE Roll 2, 2 B signed
	{10834, famFMB, ioSigned, scaleNone, ""},                               // EYE Roll 3, 2 B signed
	{10835, famFMB, ioSigned, scaleNone, ""},                               // EYE Roll 4, 2 B signed
	{10880, famFMX6, ioSigned, scaleNone, ""},                              // High voltage battery current, 4 B signed, ×50 mA
	{10886, famFMX6, ioSigned, scaleNone, ""},                              // EVSE1 AC RMS Current, 4 B signed, ×50 mA
	{10889, famFMX6, ioSigned, scaleNone, ""},                              // High Voltage Battery Highest Cell Temperature, 2 B signed °C
	{10890, famFMX6, ioSigned, scaleNone, ""},                              // High Voltage Battery Lowest Cell Temperature, 2 B signed °C
	{10891, famFMX6, ioSigned, scaleNone, ""},                              // Propulsion Motor Coolant Fan 1 Control Temperature, 2 B signed °C
	{10893, famFMX6, ioSigned, scaleNone, ""},                              // High Voltage Battery Temperature, 1 B signed °C
	{12412, famFMX6, ioSigned, scaleNone, ""},                              // Front nominal lower link force, 1 B signed %
	{12413, famFMX6, ioSigned, scaleNone, ""},                              // Front draft, 4 B signed N
	{12416, famFMX6, ioSigned, scaleNone, ""},                              // Rear nominal lower link force, 1 B signed %
	{12417, famFMX6, ioSigned, scaleNone, ""},                              // Rear draft, 4 B signed N
	{12438, famFMX6, ioSigned, scaleNone, ""},                              // Auxil ext valve number 0, 1 B signed %
	{12439, famFMX6, ioSigned, scaleNone, ""},                              // Auxil ext valve number 1, 1 B signed %
	{12440, famFMX6, ioSigned, scaleNone, ""},                              // Auxil ext valve number 2, 1 B signed %
	{12441, famFMX6, ioSigned, scaleNone, ""},                              // Auxil ext valve number 3, 1 B signed %
	{12442, famFMX6, ioSigned, scaleNone, ""},                              // Auxil ext valve number 4, 1 B signed %
	{12443, famFMX6, ioSigned, scaleNone, ""},                              // Auxil ext valve number 5, 1 B signed %
	{12444, famFMX6, ioSigned, scaleNone, ""},                              // Auxil ext valve number 6, 1 B signed %
	{12445, famFMX6, ioSigned, scaleNone, ""},                              // Auxil ext valve number 7, 1 B signed %
	{12446, famFMX6, ioSigned, scaleNone, ""},                              // Auxil ext valve number 8, 1 B signed %
	{12447, famFMX6, ioSigned, scaleNone, ""},                              // Auxil ext valve number 9, 1 B signed %
	{12448, famFMX6, ioSigned, scaleNone, ""},                              // Auxil ext valve number 10, 1 B signed %
	{12449, famFMX6, ioSigned, scaleNone, ""},                              // Auxil ext valve number 11, 1 B signed %
	{12450, famFMX6, ioSigned, scaleNone, ""},                              // Auxil ext valve number 12, 1 B signed %
	{12451, famFMX6, ioSigned, scaleNone, ""},                              // Auxil ext valve number 13, 1 B signed %
	{12452, famFMX6, ioSigned, scaleNone, ""},                              // Auxil ext valve number 14, 1 B signed %
	{12453, famFMX6, ioSigned, scaleNone, ""},                              // Auxil ext valve number 15, 1 B signed %
	{12454, famFMX6, ioSigned, scaleNone, ""},                              // Auxil ret valve number 0, 1 B signed %
	{12455, famFMX6, ioSigned, scaleNone, ""},                              // Auxil ret valve number 1, 1 B signed %
	{12456, famFMX6, ioSigned, scaleNone, ""},                              // Auxil ret valve number 2, 1 B signed %
	{12457, famFMX6, ioSigned, scaleNone, ""},                              // Auxil ret valve number 3, 1 B signed %
	{12458, famFMX6, ioSigned, scaleNone, ""},                              // Auxil ret valve number 4, 1 B signed %
	{12459, famFMX6, ioSigned, scaleNone, ""},                              // Auxil ret valve number 5, 1 B signed %
	{12460, famFMX6, ioSigned, scaleNone, ""},                              // Auxil ret valve number 6, 1 B signed %
	{12461, famFMX6, ioSigned, scaleNone, ""},                              // Auxil ret valve number 7, 1 B signed %
	{12462, famFMX6, ioSigned, scaleNone, ""},                              // Auxil ret valve number 8, 1 B signed %
	{12463, famFMX6, ioSigned, scaleNone, ""},                              // Auxil ret valve number 9, 1 B signed %
	{12464, famFMX6, ioSigned, scaleNone, ""},                              // Auxil ret valve number 10, 1 B signed %
	{12465, famFMX6, ioSigned, scaleNone, ""},                              // Auxil ret valve number 11, 1 B signed %
	{12466, famFMX6, ioSigned, scaleNone, ""},                              // Auxil ret valve number 12, 1 B signed %
	{12467, famFMX6, ioSigned, scaleNone, ""},                              // Auxil ret valve number 13, 1 B signed %
	{12468, famFMX6, ioSigned, scaleNone, ""},                              // Auxil ret valve number 14, 1 B signed %
	{12469, famFMX6, ioSigned, scaleNone, ""},                              // Auxil ret valve number 15, 1 B signed %
	{12502, famFMX6, ioSigned, scaleNone, ""},                              // extend port measured flow 0, 1 B signed %
	{12503, famFMX6, ioSigned, scaleNone, ""},                              // extend port measured flow 1, 1 B signed %
	{12504, famFMX6, ioSigned, scaleNone, ""},                              // extend port measured flow 2, 1 B signed %
	{12505, famFMX6, ioSigned, scaleNone, ""},                              // extend port measured flow 3, 1 B signed %
	{12506, famFMX6, ioSigned, scaleNone, ""},                              // extend port measured flow 4, 1 B signed %
	{12507, famFMX6, ioSigned, scaleNone, ""},                              // extend port measured flow 5, 1 B signed %
	{12508, famFMX6, ioSigned, scaleNone, ""},                              // extend port measured flow 6, 1 B signed %
	{12509, famFMX6, ioSigned, scaleNone, ""},                              // extend port measured flow 7, 1 B signed %
	{12510, famFMX6, ioSigned, scaleNone, ""},                              // extend port measured flow 8, 1 B signed %
	{12511, famFMX6, ioSigned, scaleNone, ""},                              // extend port measured flow 9, 1 B signed %
	{12512, famFMX6, ioSigned, scaleNone, ""},                              // extend port measured flow 10, 1 B signed %
	{12513, famFMX6, ioSigned, scaleNone, ""},                              // extend port measured pressure 11, 1 B signed %
	{12514, famFMX6, ioSigned, scaleNone, ""},                              // extend port measured pressure 12, 1 B signed %
	{12515, famFMX6, ioSigned, scaleNone, ""},                              // extend port measured pressure 13, 1 B signed %
	{12516, famFMX6, ioSigned, scaleNone, ""},                              // extend port measured pressure 14, 1 B signed %
	{12517, famFMX6, ioSigned, scaleNone, ""},                              // extend port measured pressure 15, 1 B signed %
}

// ioConflicts are the IDs that mean one thing on the FMB lists and another on
// the FMX6 lists. With [FamilyBoth] such an ID is named only where both
// families' rows agree (famAll rows); otherwise it stays custom.param.<id>.
var ioConflicts = [...]uint16{
	4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 22, 23, 25, 26, 27, 28, 29, 30, 31,
	32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 50, 51, 52, 56, 57, 58, 59,
	60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 79, 80, 81, 82, 83, 84,
	85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100, 101, 102, 103, 104, 108, 110,
	111, 113, 122, 123, 124, 125, 127, 128, 135, 136, 137, 138, 139, 141, 142, 143, 144, 145, 146,
	147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159, 160, 161, 162, 163, 164, 165,
	166, 167, 168, 169, 170, 171, 172, 173, 174, 176, 177, 178, 183, 184, 185, 186, 187, 188, 189,
	190, 191, 192, 193, 194, 195, 196, 197, 198, 199, 200, 205, 208, 209, 210, 216, 217, 218, 219,
	220, 221, 222, 223, 224, 225, 226, 227, 228, 231, 232, 233, 234, 235, 236, 237, 238, 243, 247,
	248, 251, 252, 257, 260, 304, 305, 306, 307, 308, 309, 317, 318, 325, 327, 329, 331, 332, 333,
	334, 335, 336, 337, 338, 380, 381, 383, 385, 387, 388, 389, 483, 500, 501, 502, 517, 518, 519,
	520, 521, 522, 548,
}
