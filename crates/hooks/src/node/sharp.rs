//! The Rust half of the built-in `sharp` (`js-runtime/node/lib/sharp.js`), used when a hook's
//! `require('sharp')` finds no package or one whose native addon cannot load. The JS side
//! collects the calls (`resize`, `rotate`, `extract`, `jpeg`, ...) into one pipeline, as sharp
//! does, and hands it here with the input; the work runs on the blocking pool, so the isolate's
//! event loop keeps turning while an image is processed.
//!
//! Operations run in sharp's fixed order, whatever order the hook called them in: rotation
//! (first when an `extract` came before `resize`), the pre-resize `extract`, `flatten`,
//! `greyscale`, multiples of 90° and EXIF orientation, `flip`/`flop`, `resize` with its crop
//! or letterbox, other angles, the post-resize `extract`, `extend`, `removeAlpha` /
//! `ensureAlpha`, then the output format. Sizes and channel counts match sharp 0.29 (the
//! resize grid in `fixtures/native-modules/reference.json` was made with it); pixels differ in
//! the last bits (the `image` crate's filters, not libvips's).
//!
//! Not done: TIFF, AVIF, HEIF, SVG input or output; lossy WebP (the `image` crate encodes WebP
//! lossless, whatever `quality` says); the `entropy` / `attention` crop strategies (they crop
//! at the centre); keeping metadata in the output (`withMetadata` is accepted, nothing is
//! copied); 16-bit output (images are processed with 8 bits per channel).

use deno_core::{op2, JsBuffer, ToJsBuffer};
use deno_error::JsErrorBox;
use image::imageops::FilterType;
use image::{ColorType, DynamicImage, GenericImageView, ImageDecoder, ImageFormat, ImageReader, Rgba};
use serde::{Deserialize, Serialize};
use std::io::Cursor;

/// Where the pixels come from: the bytes passed along, a file, raw pixels or a plain canvas.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Input {
    file: Option<String>,
    raw: Option<Raw>,
    create: Option<Create>,
    /// `limitInputPixels`; 0 means no limit.
    limit_input_pixels: u64,
}

#[derive(Deserialize, Clone, Copy)]
struct Raw {
    width: u32,
    height: u32,
    channels: u8,
}

#[derive(Deserialize)]
struct Create {
    width: u32,
    height: u32,
    channels: u8,
    background: [u8; 4],
}

#[derive(Deserialize, Clone, Copy)]
struct Region {
    left: u32,
    top: u32,
    width: u32,
    height: u32,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Default, Debug)]
#[serde(rename_all = "lowercase")]
enum Fit {
    #[default]
    Cover,
    Contain,
    Fill,
    Inside,
    Outside,
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(rename_all = "camelCase", default)]
struct Resize {
    width: Option<u32>,
    height: Option<u32>,
    fit: Fit,
    /// sharp's numbering: 0 centre, 1 north (top), 2 east, 3 south, 4 west, 5 north-east,
    /// 6 south-east, 7 south-west, 8 north-west; 16/17 (the strategies) crop at the centre.
    position: u8,
    background: [u8; 4],
    without_enlargement: bool,
    without_reduction: bool,
    kernel: Kernel,
}

#[derive(Deserialize, Clone, Copy, Default)]
#[serde(rename_all = "lowercase")]
enum Kernel {
    Nearest,
    Cubic,
    Mitchell,
    Lanczos2,
    #[default]
    Lanczos3,
}

impl Kernel {
    fn filter(self) -> FilterType {
        match self {
            Kernel::Nearest => FilterType::Nearest,
            Kernel::Cubic | Kernel::Mitchell => FilterType::CatmullRom,
            Kernel::Lanczos2 | Kernel::Lanczos3 => FilterType::Lanczos3,
        }
    }
}

#[derive(Deserialize, Clone, Copy)]
struct Extend {
    top: u32,
    bottom: u32,
    left: u32,
    right: u32,
    background: [u8; 4],
}

/// Everything the JS side collected, run by [`run`] in sharp's order.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Pipeline {
    /// `rotate()` without an angle: turn the image upright from its EXIF orientation.
    auto_orient: bool,
    angle: f64,
    rotation_background: [u8; 4],
    rotate_before_pre_extract: bool,
    flip: bool,
    flop: bool,
    extract_pre: Option<Region>,
    extract_post: Option<Region>,
    resize: Option<Resize>,
    extend: Option<Extend>,
    flatten: Option<[u8; 4]>,
    greyscale: bool,
    remove_alpha: bool,
    /// `ensureAlpha(alpha)`, the alpha as 0-255.
    ensure_alpha: Option<u8>,
    output: Output,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Output {
    /// `jpeg`, `png`, `webp`, `gif`, `raw`, or empty for the input's format.
    format: String,
    quality: Option<u8>,
    compression_level: Option<u8>,
    /// `toFile`: written there instead of returned.
    file: Option<String>,
}

/// sharp's `info`: what was produced.
#[derive(Serialize)]
pub struct Info {
    format: &'static str,
    width: u32,
    height: u32,
    channels: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    depth: Option<&'static str>,
    premultiplied: bool,
    size: usize,
}

#[derive(Serialize)]
pub struct Rendered {
    data: Option<ToJsBuffer>,
    info: Info,
}

/// sharp's `metadata()`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    format: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    size: Option<usize>,
    width: u32,
    height: u32,
    space: &'static str,
    channels: u8,
    depth: &'static str,
    is_progressive: bool,
    has_profile: bool,
    has_alpha: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    orientation: Option<u8>,
}

/// A decoded input with what `metadata()` reports of it.
struct Source {
    image: DynamicImage,
    format: &'static str,
    /// The EXIF orientation, when the image has one.
    orientation: Option<image::metadata::Orientation>,
    has_profile: bool,
    depth: &'static str,
    size: Option<usize>,
}

fn format_name(format: ImageFormat) -> Option<&'static str> {
    match format {
        ImageFormat::Jpeg => Some("jpeg"),
        ImageFormat::Png => Some("png"),
        ImageFormat::WebP => Some("webp"),
        ImageFormat::Gif => Some("gif"),
        _ => None,
    }
}

/// 8 bits per channel, one of the four layouts sharp's channel counts name (1 to 4).
fn eight_bit(image: DynamicImage) -> DynamicImage {
    match image.color() {
        ColorType::L8 | ColorType::La8 | ColorType::Rgb8 | ColorType::Rgba8 => image,
        ColorType::L16 => DynamicImage::ImageLuma8(image.to_luma8()),
        ColorType::La16 => DynamicImage::ImageLumaA8(image.to_luma_alpha8()),
        c if c.has_alpha() => DynamicImage::ImageRgba8(image.to_rgba8()),
        _ => DynamicImage::ImageRgb8(image.to_rgb8()),
    }
}

fn channels(image: &DynamicImage) -> u8 {
    image.color().channel_count()
}

fn open(input: &Input, bytes: &[u8]) -> Result<Source, String> {
    if let Some(create) = &input.create {
        let mut image = with_channels(DynamicImage::new_rgba8(create.width, create.height), create.channels);
        fill(&mut image, create.background);
        return Ok(Source { image, format: "raw", orientation: None, has_profile: false, depth: "uchar", size: None });
    }
    if let Some(raw) = input.raw {
        return from_raw(raw, bytes).map(|image| Source { image, format: "raw", orientation: None, has_profile: false, depth: "uchar", size: Some(bytes.len()) });
    }
    let (data, what, size) = match &input.file {
        Some(path) => match std::fs::read(path) {
            Ok(data) => (data, "file", None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err("Input file is missing".into()),
            Err(e) => return Err(format!("Input file could not be read: {e}")),
        },
        None => (bytes.to_vec(), "buffer", Some(bytes.len())),
    };
    let unsupported = || format!("Input {what} contains unsupported image format");
    let reader = ImageReader::new(Cursor::new(data.as_slice())).with_guessed_format().map_err(|_| unsupported())?;
    let format = reader.format().and_then(format_name).ok_or_else(unsupported)?;
    let mut decoder = reader.into_decoder().map_err(|_| unsupported())?;
    let (width, height) = decoder.dimensions();
    if input.limit_input_pixels > 0 && u64::from(width) * u64::from(height) > input.limit_input_pixels {
        return Err("Input image exceeds pixel limit".into());
    }
    let depth = if decoder.color_type().bytes_per_pixel() > decoder.color_type().channel_count() { "ushort" } else { "uchar" };
    let has_profile = decoder.icc_profile().ok().flatten().is_some();
    let orientation = decoder.exif_metadata().ok().flatten().and_then(|exif| image::metadata::Orientation::from_exif_chunk(&exif));
    let image = DynamicImage::from_decoder(decoder).map_err(|e| format!("Input {what} has corrupt header: {e}"))?;
    Ok(Source { image: eight_bit(image), format, orientation, has_profile, depth, size })
}

fn from_raw(raw: Raw, bytes: &[u8]) -> Result<DynamicImage, String> {
    let expected = raw.width as usize * raw.height as usize * raw.channels as usize;
    if bytes.len() < expected {
        return Err(format!("VipsImage: memory area too small --- should be {expected} bytes, you passed {}", bytes.len()));
    }
    let pixels = bytes[..expected].to_vec();
    let image = match raw.channels {
        1 => image::GrayImage::from_raw(raw.width, raw.height, pixels).map(DynamicImage::ImageLuma8),
        2 => image::GrayAlphaImage::from_raw(raw.width, raw.height, pixels).map(DynamicImage::ImageLumaA8),
        3 => image::RgbImage::from_raw(raw.width, raw.height, pixels).map(DynamicImage::ImageRgb8),
        4 => image::RgbaImage::from_raw(raw.width, raw.height, pixels).map(DynamicImage::ImageRgba8),
        _ => None,
    };
    image.ok_or_else(|| "Expected width, height and channels for raw pixel input".into())
}

/// The same pixels with `count` channels (1 grey, 2 grey + alpha, 3 RGB, 4 RGBA).
fn with_channels(image: DynamicImage, count: u8) -> DynamicImage {
    match count {
        1 => DynamicImage::ImageLuma8(image.to_luma8()),
        2 => DynamicImage::ImageLumaA8(image.to_luma_alpha8()),
        3 => DynamicImage::ImageRgb8(image.to_rgb8()),
        _ => DynamicImage::ImageRgba8(image.to_rgba8()),
    }
}

fn fill(image: &mut DynamicImage, colour: [u8; 4]) {
    let (w, h) = image.dimensions();
    let mut canvas = image::RgbaImage::from_pixel(w, h, Rgba(colour));
    if channels(image) <= 2 {
        // Grey canvases take the colour's luminance, as libvips does when it converts.
        let l = luma(colour);
        canvas = image::RgbaImage::from_pixel(w, h, Rgba([l, l, l, colour[3]]));
    }
    *image = with_channels(DynamicImage::ImageRgba8(canvas), channels(image));
}

fn luma(c: [u8; 4]) -> u8 {
    (0.2126 * f64::from(c[0]) + 0.7152 * f64::from(c[1]) + 0.0722 * f64::from(c[2])).round() as u8
}

/// A canvas of `w` × `h` in `background`, with the image's channels plus alpha when the
/// background is translucent (sharp adds an alpha channel then).
fn canvas_for(image: &DynamicImage, w: u32, h: u32, background: [u8; 4]) -> DynamicImage {
    let mut count = channels(image);
    if background[3] < 255 && count % 2 == 1 {
        count += 1;
    }
    let mut canvas = with_channels(DynamicImage::new_rgba8(w, h), count);
    fill(&mut canvas, background);
    canvas
}

fn place(image: &DynamicImage, w: u32, h: u32, x: i64, y: i64, background: [u8; 4]) -> DynamicImage {
    let mut canvas = canvas_for(image, w, h, background);
    let top = with_channels(image.clone(), channels(&canvas));
    image::imageops::replace(&mut canvas, &top, x, y);
    canvas
}

fn extract(image: &DynamicImage, r: Region) -> Result<DynamicImage, String> {
    let (w, h) = image.dimensions();
    if r.width == 0 {
        return Err("extract_area: parameter width not set\n".into());
    }
    if r.height == 0 {
        return Err("extract_area: parameter height not set\n".into());
    }
    if u64::from(r.left) + u64::from(r.width) > u64::from(w) || u64::from(r.top) + u64::from(r.height) > u64::from(h) {
        // libvips's messages end with a line break, and sharp passes them on as they are.
        return Err("extract_area: bad extract area\n".into());
    }
    Ok(image.crop_imm(r.left, r.top, r.width, r.height))
}

/// The offset of a `size` box inside `room` for sharp's position number; `crop` rounds the
/// centre up as sharp's crop does, letterboxing rounds it down.
fn offset(position: u8, room: (u32, u32), crop: bool) -> (u32, u32) {
    let centre = |free: u32| if crop { free.div_ceil(2) } else { free / 2 };
    let (fx, fy) = room;
    let (cx, cy) = (centre(fx), centre(fy));
    match position {
        1 => (cx, 0),
        2 => (fx, cy),
        3 => (cx, fy),
        4 => (0, cy),
        5 => (fx, 0),
        6 => (fx, fy),
        7 => (0, fy),
        8 => (0, 0),
        _ => (cx, cy),
    }
}

fn scaled(side: u32, scale: f64) -> u32 {
    ((f64::from(side) * scale).round() as u32).max(1)
}

/// What `resize` makes of a `w` × `h` image: the size to scale it to, then the box to crop it
/// to (`cover`) or to letterbox it in (`contain`), as sharp 0.29 computes them.
#[derive(Debug, PartialEq, Eq)]
struct ResizePlan {
    scale_to: (u32, u32),
    frame: Option<(u32, u32)>,
}

fn plan(w: u32, h: u32, r: &Resize) -> ResizePlan {
    let (mut tw, mut th) = (r.width, r.height);
    if r.without_enlargement {
        tw = tw.map(|t| t.min(w));
        th = th.map(|t| t.min(h));
    }
    if r.without_reduction {
        tw = tw.map(|t| t.max(w));
        th = th.map(|t| t.max(h));
    }
    let (fw, fh) = (f64::from(w), f64::from(h));
    let keep = ResizePlan { scale_to: (w, h), frame: None };
    match (tw, th) {
        (None, None) => keep,
        (Some(tw), None) if r.fit == Fit::Fill => ResizePlan { scale_to: (tw, h), frame: None },
        (None, Some(th)) if r.fit == Fit::Fill => ResizePlan { scale_to: (w, th), frame: None },
        (Some(tw), None) => ResizePlan { scale_to: (tw, scaled(h, f64::from(tw) / fw)), frame: None },
        (None, Some(th)) => ResizePlan { scale_to: (scaled(w, f64::from(th) / fh), th), frame: None },
        (Some(tw), Some(th)) => {
            let (sx, sy) = (f64::from(tw) / fw, f64::from(th) / fh);
            let by = |scale: f64| (scaled(w, scale), scaled(h, scale));
            match r.fit {
                Fit::Fill => ResizePlan { scale_to: (tw, th), frame: None },
                Fit::Inside => ResizePlan { scale_to: by(sx.min(sy)), frame: None },
                Fit::Outside => ResizePlan { scale_to: by(sx.max(sy)), frame: None },
                Fit::Cover => ResizePlan { scale_to: by(sx.max(sy)), frame: Some((tw, th)) },
                Fit::Contain => ResizePlan { scale_to: by(sx.min(sy)), frame: Some((tw, th)) },
            }
        }
    }
}

fn resize(image: DynamicImage, r: &Resize) -> DynamicImage {
    let (w, h) = image.dimensions();
    let plan = plan(w, h, r);
    let mut image = if plan.scale_to == (w, h) { image } else { image.resize_exact(plan.scale_to.0, plan.scale_to.1, r.kernel.filter()) };
    if let Some((fw, fh)) = plan.frame {
        let (sw, sh) = image.dimensions();
        if r.fit == Fit::Cover {
            let (cw, ch) = (fw.min(sw), fh.min(sh));
            let (x, y) = offset(r.position, (sw - cw, sh - ch), true);
            image = image.crop_imm(x, y, cw, ch);
        } else if (sw, sh) != (fw, fh) {
            let (x, y) = offset(r.position, (fw.saturating_sub(sw), fh.saturating_sub(sh)), false);
            image = place(&image, fw, fh, i64::from(x), i64::from(y), r.background);
        }
    }
    image
}

/// Turns by 90°, 180° or 270° (clockwise, as sharp); `None` for other angles.
fn quarter_turn(image: &DynamicImage, angle: f64) -> Option<DynamicImage> {
    let turns = angle.rem_euclid(360.0);
    if turns.fract() != 0.0 {
        return None;
    }
    match turns as u32 {
        90 => Some(image.rotate90()),
        180 => Some(image.rotate180()),
        270 => Some(image.rotate270()),
        _ => None,
    }
}

/// Turns by any angle (clockwise) into the rotated image's bounding box, the corners in
/// `background`, sampling bilinearly.
fn turn(image: &DynamicImage, angle: f64, background: [u8; 4]) -> DynamicImage {
    let (sin, cos) = angle.to_radians().sin_cos();
    let (w, h) = image.dimensions();
    let (fw, fh) = (f64::from(w), f64::from(h));
    let ow = (fw * cos.abs() + fh * sin.abs()).round().max(1.0) as u32;
    let oh = (fw * sin.abs() + fh * cos.abs()).round().max(1.0) as u32;
    let source = image.to_rgba8();
    let sample = |x: f64, y: f64| -> [f64; 4] {
        let pixel = |px: i64, py: i64| -> [f64; 4] {
            if px < 0 || py < 0 || px >= i64::from(w) || py >= i64::from(h) {
                return background.map(f64::from);
            }
            source.get_pixel(px as u32, py as u32).0.map(f64::from)
        };
        let (x0, y0) = (x.floor(), y.floor());
        let (dx, dy) = (x - x0, y - y0);
        let (x0, y0) = (x0 as i64, y0 as i64);
        let [a, b, c, d] = [pixel(x0, y0), pixel(x0 + 1, y0), pixel(x0, y0 + 1), pixel(x0 + 1, y0 + 1)];
        std::array::from_fn(|i| a[i] * (1.0 - dx) * (1.0 - dy) + b[i] * dx * (1.0 - dy) + c[i] * (1.0 - dx) * dy + d[i] * dx * dy)
    };
    let out = image::RgbaImage::from_fn(ow, oh, |x, y| {
        let (ox, oy) = (f64::from(x) + 0.5 - f64::from(ow) / 2.0, f64::from(y) + 0.5 - f64::from(oh) / 2.0);
        let (sx, sy) = (ox * cos + oy * sin + fw / 2.0 - 0.5, -ox * sin + oy * cos + fh / 2.0 - 0.5);
        Rgba(sample(sx, sy).map(|v| v.round().clamp(0.0, 255.0) as u8))
    });
    let mut count = channels(image);
    if background[3] < 255 && count % 2 == 1 {
        count += 1;
    }
    with_channels(DynamicImage::ImageRgba8(out), count)
}

/// Composites the image over `background` and drops its alpha.
fn flatten(image: DynamicImage, background: [u8; 4]) -> DynamicImage {
    let count = channels(&image);
    if count % 2 == 1 {
        return image;
    }
    let mut rgba = image.to_rgba8();
    for pixel in rgba.pixels_mut() {
        let alpha = f64::from(pixel[3]) / 255.0;
        for i in 0..3 {
            pixel[i] = (f64::from(pixel[i]) * alpha + f64::from(background[i]) * (1.0 - alpha)).round() as u8;
        }
        pixel[3] = 255;
    }
    with_channels(DynamicImage::ImageRgba8(rgba), count - 1)
}

fn add_alpha(image: DynamicImage, alpha: u8) -> DynamicImage {
    let count = channels(&image);
    if count % 2 == 0 {
        return image;
    }
    let mut rgba = image.to_rgba8();
    for pixel in rgba.pixels_mut() {
        pixel[3] = alpha;
    }
    with_channels(DynamicImage::ImageRgba8(rgba), count + 1)
}

fn process(mut image: DynamicImage, orientation: Option<image::metadata::Orientation>, p: &Pipeline) -> Result<DynamicImage, String> {
    let orient = |image: &mut DynamicImage| {
        if p.auto_orient {
            if let Some(o) = orientation {
                image.apply_orientation(o);
            }
        }
    };
    let upright = p.angle.rem_euclid(360.0) == 0.0;
    let mut turned = false;
    if p.rotate_before_pre_extract {
        orient(&mut image);
        if !upright {
            image = quarter_turn(&image, p.angle).unwrap_or_else(|| turn(&image, p.angle, p.rotation_background));
        }
        turned = true;
    }
    if let Some(region) = p.extract_pre {
        image = extract(&image, region)?;
    }
    if let Some(background) = p.flatten {
        image = flatten(image, background);
    }
    if p.greyscale {
        image = image.grayscale();
    }
    if !turned {
        orient(&mut image);
        if upright {
            turned = true;
        } else if let Some(t) = quarter_turn(&image, p.angle) {
            image = t;
            turned = true;
        }
    }
    if p.flip {
        image = image.flipv();
    }
    if p.flop {
        image = image.fliph();
    }
    if let Some(r) = &p.resize {
        image = resize(image, r);
    }
    if !turned {
        image = turn(&image, p.angle, p.rotation_background);
    }
    if let Some(region) = p.extract_post {
        image = extract(&image, region)?;
    }
    if let Some(e) = p.extend {
        let (w, h) = image.dimensions();
        image = place(&image, w + e.left + e.right, h + e.top + e.bottom, i64::from(e.left), i64::from(e.top), e.background);
    }
    if p.remove_alpha && channels(&image) % 2 == 0 {
        image = with_channels(image.clone(), channels(&image) - 1);
    }
    if let Some(alpha) = p.ensure_alpha {
        image = add_alpha(image, alpha);
    }
    Ok(image)
}

fn encode(image: DynamicImage, format: &'static str, out: &Output) -> Result<(Vec<u8>, u8), String> {
    let mut bytes = Vec::new();
    let failed = |e: image::ImageError| format!("{format} output failed: {e}");
    let count = channels(&image);
    match format {
        "raw" => return Ok((image.into_bytes(), count)),
        "jpeg" => {
            // JPEG has no alpha channel: it is dropped.
            let image = if count % 2 == 0 { with_channels(image, count - 1) } else { image };
            let count = channels(&image);
            let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, out.quality.unwrap_or(80));
            image.write_with_encoder(encoder).map_err(failed)?;
            return Ok((bytes, count));
        }
        "png" => {
            use image::codecs::png::{CompressionType, FilterType as PngFilter, PngEncoder};
            let level = match out.compression_level.unwrap_or(6) {
                0 => CompressionType::Uncompressed,
                n => CompressionType::Level(n),
            };
            image.write_with_encoder(PngEncoder::new_with_quality(&mut bytes, level, PngFilter::Adaptive)).map_err(failed)?;
        }
        "webp" => image.write_with_encoder(image::codecs::webp::WebPEncoder::new_lossless(&mut bytes)).map_err(failed)?,
        "gif" => {
            let mut encoder = image::codecs::gif::GifEncoder::new(&mut bytes);
            encoder.encode_frame(image::Frame::new(image.to_rgba8())).map_err(failed)?;
        }
        other => return Err(format!("{other} output is not available to Rectus hooks")),
    }
    Ok((bytes, count))
}

fn output_format(out: &Output, source: &'static str) -> &'static str {
    let named = if out.format.is_empty() { out.file.as_deref().and_then(|f| f.rsplit_once('.')).map(|(_, ext)| ext.to_ascii_lowercase()).unwrap_or_default() } else { out.format.clone() };
    match named.as_str() {
        "jpeg" | "jpg" => "jpeg",
        "png" => "png",
        "webp" => "webp",
        "gif" => "gif",
        "raw" => "raw",
        _ => source,
    }
}

fn render(input: Input, bytes: Vec<u8>, pipeline: Pipeline) -> Result<Rendered, String> {
    let source = open(&input, &bytes)?;
    let format = output_format(&pipeline.output, source.format);
    let image = process(source.image, source.orientation, &pipeline)?;
    let (width, height) = image.dimensions();
    let (data, channels) = encode(image, format, &pipeline.output)?;
    let info = Info { format, width, height, channels, depth: (format == "raw").then_some("uchar"), premultiplied: false, size: data.len() };
    if let Some(path) = &pipeline.output.file {
        std::fs::write(path, &data).map_err(|e| format!("{path}: unable to open for write\nunix error: {}", io_reason(&e)))?;
        return Ok(Rendered { data: None, info });
    }
    Ok(Rendered { data: Some(data.into()), info })
}

/// The OS's wording of an error (`No such file or directory`), without Rust's `(os error N)`.
fn io_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    text.split(" (os error").next().unwrap_or(&text).to_string()
}

fn describe(input: Input, bytes: Vec<u8>) -> Result<Metadata, String> {
    let source = open(&input, &bytes)?;
    let image = &source.image;
    let channels = channels(image);
    Ok(Metadata {
        format: source.format,
        size: source.size,
        width: image.width(),
        height: image.height(),
        space: if channels <= 2 { "b-w" } else { "srgb" },
        channels,
        depth: source.depth,
        is_progressive: false,
        has_profile: source.has_profile,
        has_alpha: channels % 2 == 0,
        orientation: source.orientation.map(|o| o.to_exif()),
    })
}

async fn blocking<T: Send + 'static>(work: impl FnOnce() -> Result<T, String> + Send + 'static) -> Result<T, JsErrorBox> {
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result.map_err(JsErrorBox::generic),
        Err(e) => Err(JsErrorBox::generic(format!("sharp: the image work failed: {e}"))),
    }
}

/// Runs a pipeline: the output bytes (or nothing, for `toFile`) and sharp's `info`.
#[op2]
#[serde]
pub async fn op_sharp_pipeline(#[serde] input: Input, #[buffer] bytes: JsBuffer, #[serde] pipeline: Pipeline) -> Result<Rendered, JsErrorBox> {
    let bytes = bytes.to_vec();
    blocking(move || render(input, bytes, pipeline)).await
}

/// sharp's `metadata()` of an input.
#[op2]
#[serde]
pub async fn op_sharp_metadata(#[serde] input: Input, #[buffer] bytes: JsBuffer) -> Result<Metadata, JsErrorBox> {
    let bytes = bytes.to_vec();
    blocking(move || describe(input, bytes)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every (width, height, fit, withoutEnlargement) case sharp 0.29 was asked for on a 40×20
    /// image, with the size it produced.
    #[test]
    fn sizes_match_sharp() {
        let reference: serde_json::Value = serde_json::from_str(include_str!("../../../../fixtures/native-modules/reference.json")).unwrap();
        let cases = reference["sharp"]["resize40x20"].as_array().unwrap();
        assert!(cases.len() > 80);
        for case in cases {
            let c = case.as_array().unwrap();
            let dim = |v: &serde_json::Value| v.as_u64().map(|n| n as u32);
            let fit: Fit = serde_json::from_value(c[2].clone()).unwrap();
            let r = Resize { width: dim(&c[0]), height: dim(&c[1]), fit, without_enlargement: c[3].as_bool().unwrap(), ..Default::default() };
            let image = DynamicImage::new_rgb8(40, 20);
            let out = resize(image, &r);
            assert_eq!((u64::from(out.width()), u64::from(out.height())), (c[4].as_u64().unwrap(), c[5].as_u64().unwrap()), "{case}");
        }
    }

    #[test]
    fn any_angle_fits_the_bounding_box() {
        let image = DynamicImage::new_rgb8(40, 20);
        assert_eq!(turn(&image, 45.0, [0, 0, 0, 255]).dimensions(), (42, 42));
        assert_eq!(quarter_turn(&image, -90.0).unwrap().dimensions(), (20, 40));
        assert!(quarter_turn(&image, 30.0).is_none());
    }
}
