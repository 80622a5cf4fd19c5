//go:build cgo

package libjpeg

/*
#cgo LDFLAGS: -ljpeg
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <jpeglib.h>

// yp_error carries libjpeg's error state: a jump target for fatal errors,
// the count of warnings (corrupt data that libjpeg worked around) and the
// first message.
typedef struct {
	struct jpeg_error_mgr pub;
	jmp_buf jump;
	int warnings;
	char message[JMSG_LENGTH_MAX];
} yp_error;

static void yp_error_exit(j_common_ptr cinfo) {
	yp_error *e = (yp_error *)cinfo->err;
	(*cinfo->err->format_message)(cinfo, e->message);
	longjmp(e->jump, 1);
}

static void yp_emit_message(j_common_ptr cinfo, int level) {
	yp_error *e = (yp_error *)cinfo->err;
	if (level < 0) {
		if (e->warnings == 0) {
			(*cinfo->err->format_message)(cinfo, e->message);
		}
		e->warnings++;
	}
}

static void yp_output_message(j_common_ptr cinfo) {}

// yp_init_error installs the error handlers above on cinfo.
static void yp_init_error(struct jpeg_decompress_struct *cinfo, yp_error *err) {
	memset(err, 0, sizeof *err);
	cinfo->err = jpeg_std_error(&err->pub);
	err->pub.error_exit = yp_error_exit;
	err->pub.emit_message = yp_emit_message;
	err->pub.output_message = yp_output_message;
}

enum { YP_OK = 0, YP_FAILED = 1, YP_WARNINGS = 2, YP_COLORSPACE = 3, YP_TOO_LARGE = 4, YP_SIZE = 5 };

// yp_header reads the frame header. It returns YP_OK or YP_FAILED.
static int yp_header(const unsigned char *data, unsigned long size, int *width, int *height, int *gray, char *message) {
	struct jpeg_decompress_struct cinfo;
	yp_error err;
	yp_init_error(&cinfo, &err);
	// setjmp must run in this frame, which longjmp returns to.
	if (setjmp(err.jump)) {
		jpeg_destroy_decompress(&cinfo);
		strncpy(message, err.message, JMSG_LENGTH_MAX - 1);
		return YP_FAILED;
	}
	jpeg_create_decompress(&cinfo);
	jpeg_mem_src(&cinfo, data, size);
	jpeg_read_header(&cinfo, TRUE);
	*width = (int)cinfo.image_width;
	*height = (int)cinfo.image_height;
	*gray = cinfo.jpeg_color_space == JCS_GRAYSCALE;
	if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
		jpeg_destroy_decompress(&cinfo);
		return YP_COLORSPACE;
	}
	jpeg_destroy_decompress(&cinfo);
	return YP_OK;
}

// yp_decode decodes into dst, which holds width*height*3 bytes of packed
// RGB. Grey files are replicated into three channels by libjpeg.
static int yp_decode(const unsigned char *data, unsigned long size, unsigned char *dst, int width, int height, char *message) {
	struct jpeg_decompress_struct cinfo;
	yp_error err;
	yp_init_error(&cinfo, &err);
	// setjmp must run in this frame, which longjmp returns to.
	if (setjmp(err.jump)) {
		jpeg_destroy_decompress(&cinfo);
		strncpy(message, err.message, JMSG_LENGTH_MAX - 1);
		return YP_FAILED;
	}
	jpeg_create_decompress(&cinfo);
	jpeg_mem_src(&cinfo, data, size);
	jpeg_read_header(&cinfo, TRUE);
	cinfo.out_color_space = JCS_RGB;
	jpeg_start_decompress(&cinfo);
	if ((int)cinfo.output_width != width || (int)cinfo.output_height != height || cinfo.output_components != 3) {
		jpeg_destroy_decompress(&cinfo);
		return YP_SIZE;
	}
	while (cinfo.output_scanline < cinfo.output_height) {
		JSAMPROW row = dst + (size_t)cinfo.output_scanline * (size_t)width * 3;
		jpeg_read_scanlines(&cinfo, &row, 1);
	}
	jpeg_finish_decompress(&cinfo);
	jpeg_destroy_decompress(&cinfo);
	if (err.warnings > 0) {
		strncpy(message, err.message, JMSG_LENGTH_MAX - 1);
		return YP_WARNINGS;
	}
	return YP_OK;
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// Available reports whether Decode can work in this build.
func Available() bool { return true }

// Decode decodes data into packed 8-bit RGB, three bytes per pixel, row
// after row. It checks width×height against maxPixels from the header
// before allocating the pixel buffer. EXIF orientation is not applied.
func Decode(data []byte, maxPixels int64) (rgb []byte, w, h int, err error) {
	img, err := DecodeImage(data, maxPixels)
	return img.RGB, img.Width, img.Height, err
}

// DecodeImage is Decode that also reports whether the file was greyscale,
// which colour management needs to pick the right kind of ICC profile.
// Width and Height are set whenever the header could be read.
func DecodeImage(data []byte, maxPixels int64) (Image, error) {
	if len(data) == 0 {
		return Image{}, fmt.Errorf("%w: empty input", ErrDamaged)
	}
	src := (*C.uchar)(unsafe.Pointer(&data[0]))
	size := C.ulong(len(data))
	var cw, ch, cgray C.int
	msg := make([]byte, C.JMSG_LENGTH_MAX)
	cmsg := (*C.char)(unsafe.Pointer(&msg[0]))

	switch rc := C.yp_header(src, size, &cw, &ch, &cgray, cmsg); rc {
	case C.YP_OK:
	case C.YP_COLORSPACE:
		return Image{}, ErrColorSpace
	default:
		return Image{}, fmt.Errorf("%w: %s", ErrDamaged, cString(msg))
	}
	img := Image{Width: int(cw), Height: int(ch), Gray: cgray != 0}
	if img.Width <= 0 || img.Height <= 0 || int64(img.Width)*int64(img.Height) > maxPixels {
		return img, fmt.Errorf("%w: %dx%d", ErrTooLarge, img.Width, img.Height)
	}
	rgb := make([]byte, img.Width*img.Height*3)
	switch rc := C.yp_decode(src, size, (*C.uchar)(unsafe.Pointer(&rgb[0])), cw, ch, cmsg); rc {
	case C.YP_OK:
		img.RGB = rgb
		return img, nil
	case C.YP_SIZE:
		return img, fmt.Errorf("%w: output size differs from the header", ErrDamaged)
	default:
		return img, fmt.Errorf("%w: %s", ErrDamaged, cString(msg))
	}
}

func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
