package issue

import (
	"bytes"
	"fmt"

	"borderid/enrol/biometric"
	"borderid/reader/lds"
)

// Biometric header templates (9303-10 §4.7.2.1, §4.7.3): ICAO header
// version 0101, biometric type, format owner 0101 (ISO/IEC JTC 1/SC 37)
// and format type (0008 face image 19794-5, 0007 finger image 19794-4).
var (
	bhtFace   = []byte{0x80, 0x02, 0x01, 0x01, 0x81, 0x01, 0x02, 0x87, 0x02, 0x01, 0x01, 0x88, 0x02, 0x00, 0x08}
	bhtFinger = []byte{0x80, 0x02, 0x01, 0x01, 0x81, 0x01, 0x08, 0x87, 0x02, 0x01, 0x01, 0x88, 0x02, 0x00, 0x07}
)

// encodeDG2 builds DG2 from the validated face: an uploaded ISO/IEC
// 19794-5 record goes in as is (its image, size and any feature points
// stay what the capture station wrote); a bare JPEG or JPEG 2000 is
// wrapped in a record by lds.EncodeDG2 with the width and height of its
// header. The result must parse back with the image
// unchanged.
func encodeDG2(face *biometric.Face) ([]byte, error) {
	if face == nil || (len(face.Image) == 0 && len(face.Record) == 0) {
		return nil, inputErr("no face image (DG2 is mandatory, 9303-10 §4.7.2)")
	}
	var dg2 []byte
	var err error
	if len(face.Record) > 0 {
		if !bytes.HasPrefix(face.Record, []byte("FAC\x00")) {
			return nil, inputErr("the face record is not an ISO/IEC 19794-5 record")
		}
		dg2, err = biometricGroup(lds.FileDG2, bhtFace, [][]byte{face.Record})
	} else {
		var format lds.ImageFormat
		switch face.Format {
		case "JPEG":
			format = lds.ImageJPEG
		case "JPEG2000":
			format = lds.ImageJPEG2000
		default:
			return nil, inputErr("face image format %q (JPEG or JPEG2000)", face.Format)
		}
		// The record's size is the image's own, read from its header
		// (SOF or ihdr), whatever the upload declared.
		got, w, h, err := lds.ImageInfo(face.Image)
		if err != nil || got != format {
			return nil, inputErr("the face image is not a %s image", face.Format)
		}
		dg2, err = lds.EncodeDG2([]lds.FaceImage{{Format: format, Width: w, Height: h, Data: face.Image}})
	}
	if err != nil {
		return nil, inputErr("DG2: %v", err)
	}
	parsed, err := lds.ParseDG2(dg2)
	if err != nil || len(parsed.Faces) != 1 {
		return nil, inputErr("DG2 does not parse back: %v", err)
	}
	if len(face.Image) > 0 && !bytes.Equal(parsed.Faces[0].Image, face.Image) {
		return nil, inputErr("DG2 does not hold the face image as uploaded")
	}
	return dg2, nil
}

// encodeDG3 builds DG3 from the validated ISO/IEC 19794-4 finger image
// records, each as is in a template of its own (9303-10 §4.7.3), in the
// order given. Minutiae records (19794-2) have no place in DG3.
func encodeDG3(fingers []*biometric.Finger) ([]byte, error) {
	if len(fingers) > maxFingers {
		return nil, inputErr("%d finger records, at most %d", len(fingers), maxFingers)
	}
	recs := make([][]byte, 0, len(fingers))
	for i, f := range fingers {
		if f == nil || !bytes.HasPrefix(f.Record, []byte("FIR\x00")) {
			return nil, inputErr("finger %d is not an ISO/IEC 19794-4 record", i+1)
		}
		recs = append(recs, f.Record)
	}
	dg3, err := biometricGroup(lds.FileDG3, bhtFinger, recs)
	if err != nil {
		return nil, inputErr("DG3: %v", err)
	}
	if _, err := lds.ParseDG3(dg3); err != nil {
		return nil, inputErr("DG3 does not parse back: %v", err)
	}
	return dg3, nil
}

// biometricGroup writes a biometric data group (9303-10 §4.7.2-4.7.3):
// the group's tag around a biometric information group template 7F61
// with the instance count and one template 7F60 {A1 header, 5F2E record}
// per record.
func biometricGroup(f lds.File, bht []byte, records [][]byte) ([]byte, error) {
	if len(records) == 0 || len(records) > 0xFF {
		return nil, fmt.Errorf("%d records", len(records))
	}
	group, err := lds.AppendElement(nil, lds.TagInstanceCount, []byte{byte(len(records))})
	if err != nil {
		return nil, err
	}
	for _, rec := range records {
		bit, err := lds.AppendElement(nil, lds.TagBHT, bht)
		if err != nil {
			return nil, err
		}
		if bit, err = lds.AppendElement(bit, lds.TagBDB, rec); err != nil {
			return nil, err
		}
		if group, err = lds.AppendElement(group, lds.TagBIT, bit); err != nil {
			return nil, err
		}
	}
	inner, err := lds.AppendElement(nil, lds.TagBIGT, group)
	if err != nil {
		return nil, err
	}
	return lds.AppendElement(nil, f.Tag(), inner)
}
