//go:build race

package emulator

// raceDetector: the test binary runs under the race detector, where
// TestStateFileMutations serves only a sample of the files it loads.
const raceDetector = true
