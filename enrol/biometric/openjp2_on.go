//go:build cgo && !noopenjp2

package biometric

// By default (cgo, and libopenjp2 with its headers:
// Debian libopenjp2-7-dev), JPEG 2000 images that pass the structural walk
// are also decoded completely by OpenJPEG in strict mode, from memory.

/*
#cgo pkg-config: libopenjp2
#include <openjpeg.h>
#include <string.h>

typedef struct {
	const unsigned char *data;
	OPJ_SIZE_T size, off;
	int failed;
} memsrc;

static OPJ_SIZE_T mem_read(void *buf, OPJ_SIZE_T n, void *u) {
	memsrc *m = u;
	if (m->off >= m->size) return (OPJ_SIZE_T)-1;
	OPJ_SIZE_T left = m->size - m->off;
	if (n > left) n = left;
	memcpy(buf, m->data + m->off, n);
	m->off += n;
	return n;
}

static OPJ_OFF_T mem_skip(OPJ_OFF_T n, void *u) {
	memsrc *m = u;
	if (n < 0) {
		if ((OPJ_SIZE_T)(-n) > m->off) n = -(OPJ_OFF_T)m->off;
	} else if ((OPJ_SIZE_T)n > m->size - m->off) {
		n = (OPJ_OFF_T)(m->size - m->off);
	}
	m->off += n;
	return n;
}

static OPJ_BOOL mem_seek(OPJ_OFF_T n, void *u) {
	memsrc *m = u;
	if (n < 0 || (OPJ_SIZE_T)n > m->size) return OPJ_FALSE;
	m->off = (OPJ_SIZE_T)n;
	return OPJ_TRUE;
}

static void on_error(const char *msg, void *u) { ((memsrc *)u)->failed = 1; }
static void quiet(const char *msg, void *u) {}

// j2k_decode decodes a JP2 file (jp2 != 0) or a codestream; 0 on success.
static int j2k_decode(const unsigned char *data, size_t size, int jp2, int *w, int *h, int *nc) {
	memsrc m = {data, size, 0, 0};
	opj_codec_t *codec = opj_create_decompress(jp2 ? OPJ_CODEC_JP2 : OPJ_CODEC_J2K);
	if (!codec) return 1;
	opj_set_error_handler(codec, on_error, &m);
	opj_set_warning_handler(codec, quiet, &m);
	opj_set_info_handler(codec, quiet, &m);
	opj_dparameters_t p;
	opj_set_default_decoder_parameters(&p);
	int rc = 2;
	opj_stream_t *s = NULL;
	opj_image_t *img = NULL;
	if (!opj_setup_decoder(codec, &p)) goto out;
	opj_decoder_set_strict_mode(codec, OPJ_TRUE);
	s = opj_stream_create(1 << 16, OPJ_TRUE);
	if (!s) goto out;
	opj_stream_set_user_data(s, &m, NULL);
	opj_stream_set_user_data_length(s, size);
	opj_stream_set_read_function(s, mem_read);
	opj_stream_set_skip_function(s, mem_skip);
	opj_stream_set_seek_function(s, mem_seek);
	rc = 3;
	if (!opj_read_header(s, codec, &img)) goto out;
	rc = 4;
	if (!opj_decode(codec, s, img) || !opj_end_decompress(codec, s)) goto out;
	rc = 5;
	if (m.failed) goto out;
	*w = (int)(img->x1 - img->x0);
	*h = (int)(img->y1 - img->y0);
	*nc = (int)img->numcomps;
	rc = 0;
out:
	if (img) opj_image_destroy(img);
	if (s) opj_stream_destroy(s);
	opj_destroy_codec(codec);
	return rc;
}
*/
import "C"

import (
	"bytes"
	"unsafe"
)

// openJPEG reports that this build decodes JPEG 2000 pixels.
const openJPEG = true

// decodeJPEG2000 decodes the image with OpenJPEG in strict mode (which
// refuses truncated codestreams) and checks that it decodes to the size
// and components the structural walk read. The caller has bounded the
// size (MaxFaceSide, MaxFingerSide), which bounds OpenJPEG's memory.
func decodeJPEG2000(b []byte, info j2kInfo) *Error {
	if len(b) == 0 {
		return errf(CodeMalformedImage, "the JPEG 2000 image is empty")
	}
	jp2 := C.int(0)
	if bytes.HasPrefix(b, []byte(sigJP2)) {
		jp2 = 1
	}
	var w, h, nc C.int
	if rc := C.j2k_decode((*C.uchar)(unsafe.Pointer(&b[0])), C.size_t(len(b)), jp2, &w, &h, &nc); rc != 0 {
		return errf(CodeMalformedImage, "the JPEG 2000 image does not decode")
	}
	if int(w) != info.width || int(h) != info.height || int(nc) != info.components {
		return errf(CodeMalformedImage, "the JPEG 2000 image decodes to another size than its header says")
	}
	return nil
}
