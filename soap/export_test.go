package soap

// MemoryNeed is memoryNeed, for the external tests that measure it.
var MemoryNeed = memoryNeed

// RaceEnabled is raceEnabled: the race detector changes what allocates.
const RaceEnabled = raceEnabled
