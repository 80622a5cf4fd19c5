// Package vision turns request bytes into model input. It decodes JPEG,
// PNG, WebP, GIF and BMP into packed 8-bit RGB and applies EXIF
// orientation. It then builds the planar float32 or float16 tensors that
// YOLO detectors (letterbox) and classifiers (short-side resize and centre
// crop) expect.
//
// The output is meant to match a reference pipeline of libvips decoding and
// Ultralytics preprocessing bit for bit where that is practical: JPEG chroma
// is upsampled and converted as libjpeg does (the standard library's IDCT
// still rounds differently, by up to 3 levels at a few pixels), WebP as
// libwebp does, embedded matrix/TRC and grey ICC profiles are converted to
// sRGB as lcms does, the letterbox resize reproduces OpenCV's fixed-point
// INTER_LINEAR, and the classifier resize reproduces Pillow's bilinear
// filter. Where an exact match is not reached the shortfall is marked with a
// TODO where it lives.
//
// The decoder is chosen from the leading bytes, never from a file name or a
// Content-Type. Image dimensions are checked against DecodeOptions.MaxPixels
// from the header before any pixel buffer is allocated, and a panic inside a
// decoder is turned into ErrCorrupt, so no input can take the process down.
//
// It is not an image library: there is no encoding, no colour management
// beyond converting those ICC profiles to sRGB (LUT-based and CMYK profiles
// are ignored) and no animation. GIF yields its first frame and animated
// WebP is refused.
//
// Concurrency: the package has no mutable state. Every function may be
// called from any number of goroutines at once; an *Image may be read
// concurrently but must not be written while it is being read.
package vision
