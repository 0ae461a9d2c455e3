package biometric_test

import (
	"errors"
	"fmt"

	"borderid/enrol/biometric"
)

func ExampleValidateFace() {
	jpg := biometric.SyntheticJPEG(300, 400)
	face, err := biometric.ValidateFace("image/jpeg", jpg)
	fmt.Println(face.Format, face.Width, face.Height, err)

	// A cut upload is refused with a stable code for the HTTP layer.
	_, err = biometric.ValidateFace("image/jpeg", jpg[:len(jpg)/2])
	var be *biometric.Error
	if errors.As(err, &be) {
		fmt.Println(be.Code)
	}
	// Output:
	// JPEG 300 400 <nil>
	// truncated
}

func ExampleValidateFinger() {
	rec := biometric.FingerRecord(2, 300, 400, biometric.CompressionWSQ, biometric.WSQFrame(300, 400))
	f, err := biometric.ValidateFinger(biometric.ContentTypeFinger, 2, rec)
	fmt.Println(f.Position, f.Width, f.Height, f.Resolution, f.Compression, err)
	_, err = biometric.ValidateFinger(biometric.ContentTypeFinger, 3, rec)
	fmt.Println(err.(*biometric.Error).Code)
	// Output:
	// 2 300 400 500 WSQ <nil>
	// position_mismatch
}
