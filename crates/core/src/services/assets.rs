//! `AssetsService` (spec §4.4, §7.4 `GET /assets/:pk`): a file's bytes — whole, a byte range, or
//! an image transformation of them — after the caller's read permission on `directus_files`.
//!
//! Transformations (`width`, `height`, `fit`, `withoutEnlargement`, `quality`, `format`, or a
//! preset `key`) are computed with the `image` crate, like sharp does for Directus:
//! `cover` crops to fill the box, `contain` letterboxes on black, `inside` fits within it,
//! `outside` covers it without cropping; one dimension alone scales proportionally. The result
//! is stored next to the original as `<id>__<parameters>.<ext>` and served from there on later
//! requests (deleting or replacing the file removes it: it shares the file's id as prefix).
//!
//! Deviations: WebP is encoded lossless (the `image` crate has no lossy WebP encoder), so
//! `quality` applies to JPEG only; TIFF sources are served untransformed;
//! `ASSETS_TRANSFORM_MAX_CONCURRENT` is not enforced. Transformed assets get the content type of
//! their format (rc.83 sent the original's).

use sea_query::{Alias, Query as SqlQuery};
use serde_json::{json, Map, Value};
use std::io::Cursor;
use std::sync::Arc;

use super::files::essence;
use super::items::ItemsService;
use super::Services;
use crate::auth::Accountability;
use crate::query::Query;
use crate::schema::SchemaOverview;
use crate::storage::{ByteRange, ByteStream, Stat};
use crate::{ApiError, ErrorCode};

/// The presets every project has (Directus's `SYSTEM_ASSET_ALLOW_LIST`), used by the app.
const SYSTEM_PRESETS: &[(&str, u32, Option<u32>, Fit)] = &[
    ("system-small-cover", 64, Some(64), Fit::Cover),
    ("system-small-contain", 64, None, Fit::Contain),
    ("system-medium-cover", 300, Some(300), Fit::Cover),
    ("system-medium-contain", 300, None, Fit::Contain),
    ("system-large-cover", 800, Some(600), Fit::Cover),
    ("system-large-contain", 800, None, Fit::Contain),
];

/// Source types a transformation applies to; others are served as they are.
const TRANSFORMABLE: &[&str] = &["image/jpeg", "image/png", "image/webp"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fit {
    #[default]
    Cover,
    Contain,
    Inside,
    Outside,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jpeg,
    Png,
    Webp,
}

impl Format {
    fn parse(text: &str) -> Option<Format> {
        match text {
            "jpg" | "jpeg" => Some(Format::Jpeg),
            "png" => Some(Format::Png),
            "webp" => Some(Format::Webp),
            _ => None,
        }
    }

    fn of_type(mime: &str) -> Option<Format> {
        match mime {
            "image/jpeg" => Some(Format::Jpeg),
            "image/png" => Some(Format::Png),
            "image/webp" => Some(Format::Webp),
            _ => None,
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Format::Jpeg => "jpg",
            Format::Png => "png",
            Format::Webp => "webp",
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Webp => "image/webp",
        }
    }
}

/// What to make of an image; all `None`/`false` = the file as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Transformation {
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub fit: Option<Fit>,
    pub without_enlargement: bool,
    pub quality: Option<u8>,
    pub format: Option<Format>,
}

fn illegal(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::IllegalAssetTransformation, message)
}

/// A parameter given as a number or as query-string text.
fn number(params: &Map<String, Value>, key: &str) -> Result<Option<u64>, ApiError> {
    match params.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_u64().map(Some).ok_or_else(|| ApiError::invalid_query(format!("\"{key}\" must be a positive whole number"))),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => s.parse().map(Some).map_err(|_| ApiError::invalid_query(format!("\"{key}\" must be a positive whole number"))),
        Some(_) => Err(ApiError::invalid_query(format!("\"{key}\" must be a positive whole number"))),
    }
}

fn text<'a>(params: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    params.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

impl Transformation {
    /// From query parameters (or a hook's object, or a preset): unknown keys are ignored.
    pub fn from_params(params: &Map<String, Value>) -> Result<Transformation, ApiError> {
        let dimension = |key: &str| -> Result<Option<u32>, ApiError> {
            match number(params, key)? {
                Some(0) => Err(ApiError::invalid_query(format!("\"{key}\" must be larger than 0"))),
                Some(n) => u32::try_from(n).map(Some).map_err(|_| illegal(format!("\"{key}\" is too large"))),
                None => Ok(None),
            }
        };
        let fit = match text(params, "fit") {
            None => None,
            Some("cover") => Some(Fit::Cover),
            Some("contain") => Some(Fit::Contain),
            Some("inside") => Some(Fit::Inside),
            Some("outside") => Some(Fit::Outside),
            Some(other) => return Err(ApiError::invalid_query(format!("\"fit\" must be one of cover, contain, inside, outside (got \"{other}\")"))),
        };
        let quality = match number(params, "quality")? {
            Some(q @ 1..=100) => Some(q as u8),
            Some(_) => return Err(ApiError::invalid_query("\"quality\" must be between 1 and 100")),
            None => None,
        };
        let format = match text(params, "format") {
            None => None,
            Some(f) => Some(Format::parse(f).ok_or_else(|| ApiError::invalid_query(format!("\"format\" must be one of jpg, png, webp (got \"{f}\")")))?),
        };
        let without_enlargement = match params.get("withoutEnlargement") {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s == "true" || s.is_empty(),
            _ => false,
        };
        Ok(Transformation { width: dimension("width")?, height: dimension("height")?, fit, without_enlargement, quality, format })
    }

    pub fn is_empty(&self) -> bool {
        *self == Transformation::default()
    }

    /// The stored variant's name suffix: every parameter, in a fixed order.
    fn suffix(&self) -> String {
        let mut parts = Vec::new();
        if let Some(w) = self.width {
            parts.push(format!("w{w}"));
        }
        if let Some(h) = self.height {
            parts.push(format!("h{h}"));
        }
        if let Some(fit) = self.fit {
            parts.push(format!("{fit:?}").to_lowercase());
        }
        if self.without_enlargement {
            parts.push("noenlarge".into());
        }
        if let Some(q) = self.quality {
            parts.push(format!("q{q}"));
        }
        format!("__{}", parts.join("_"))
    }
}

/// An HTTP `Range: bytes=…` request before the file's size is known (`-500` = the last 500 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RangeRequest {
    pub start: Option<u64>,
    pub end: Option<u64>,
}

impl RangeRequest {
    /// `bytes=0-99`, `bytes=100-`, `bytes=-100`; `None` for what isn't one single byte range
    /// (the header is then ignored, as HTTP allows).
    pub fn parse(header: &str) -> Option<RangeRequest> {
        let spec = header.trim().strip_prefix("bytes=")?;
        if spec.contains(',') {
            return None;
        }
        let (start, end) = spec.split_once('-')?;
        let parse = |s: &str| if s.trim().is_empty() { Ok(None) } else { s.trim().parse().map(Some) };
        let (start, end) = (parse(start).ok()?, parse(end).ok()?);
        if start.is_none() && end.is_none() {
            return None;
        }
        Some(RangeRequest { start, end })
    }

    /// The bytes it names in a file of `size` bytes; `None` when it names none (416).
    fn resolve(self, size: u64) -> Option<ByteRange> {
        let (start, end) = match (self.start, self.end) {
            (Some(s), Some(e)) => (s, e.min(size.saturating_sub(1))),
            (Some(s), None) => (s, size.saturating_sub(1)),
            (None, Some(suffix)) => (size.saturating_sub(suffix), size.saturating_sub(1)),
            (None, None) => return None,
        };
        (size > 0 && start < size && start <= end).then_some(ByteRange { start, end })
    }
}

/// A file ready to be sent.
pub struct Asset {
    /// The `directus_files` row.
    pub file: Map<String, Value>,
    /// Of what is sent: the original or the transformed variant.
    pub stat: Stat,
    pub content_type: String,
    /// The range sent, when one was asked for.
    pub range: Option<ByteRange>,
    pub stream: ByteStream<'static>,
}

pub struct AssetsService {
    services: Services,
    schema: Arc<SchemaOverview>,
    accountability: Option<Accountability>,
}

impl AssetsService {
    pub fn new(services: Services, schema: Arc<SchemaOverview>, accountability: Option<Accountability>) -> Self {
        AssetsService { services, schema, accountability }
    }

    fn items(&self, accountability: Option<Accountability>) -> ItemsService {
        ItemsService::new("directus_files", self.services.clone(), self.schema.clone(), accountability)
    }

    async fn settings(&self) -> Result<Map<String, Value>, ApiError> {
        let select = SqlQuery::select()
            .columns(["project_logo", "public_foreground", "public_background", "storage_asset_transform", "storage_asset_presets"].map(Alias::new))
            .from(Alias::new("directus_settings"))
            .limit(1)
            .to_owned();
        Ok(self.services.db.run(&select).await?.rows.into_iter().next().unwrap_or_default())
    }

    /// The transformation a request's query asks for, as the project's settings allow it
    /// (`storage_asset_transform`: `all`, `presets` or `none`; `key` names a preset of
    /// `storage_asset_presets` or a system preset and can't be combined with other parameters).
    pub async fn requested_transformation(&self, params: &Map<String, Value>) -> Result<Transformation, ApiError> {
        const KEYS: &[&str] = &["key", "width", "height", "fit", "withoutEnlargement", "quality", "format"];
        let given: Map<String, Value> = params.iter().filter(|(k, _)| KEYS.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect();
        if given.is_empty() {
            return Ok(Transformation::default());
        }
        if given.contains_key("key") && given.len() > 1 {
            return Err(ApiError::invalid_query("You can't combine the \"key\" query parameter with any other transformation."));
        }
        let settings = self.settings().await?;
        let mode = settings.get("storage_asset_transform").and_then(Value::as_str).unwrap_or("all").to_string();
        let presets: Vec<Value> = match settings.get("storage_asset_presets") {
            Some(Value::String(s)) => serde_json::from_str(s).unwrap_or_default(),
            Some(Value::Array(a)) => a.clone(),
            _ => vec![],
        };
        let Some(key) = given.get("key").and_then(Value::as_str) else {
            return match mode.as_str() {
                "all" => Transformation::from_params(&given),
                "presets" => Err(ApiError::invalid_query("Only configured presets can be used in asset generation.")),
                _ => Err(ApiError::invalid_query("Dynamic asset generation has been disabled for this project.")),
            };
        };
        if let Some((_, width, height, fit)) = SYSTEM_PRESETS.iter().find(|(k, ..)| *k == key) {
            return Ok(Transformation { width: Some(*width), height: *height, fit: Some(*fit), ..Default::default() });
        }
        if mode == "none" {
            return Err(ApiError::invalid_query("Dynamic asset generation has been disabled for this project."));
        }
        match presets.iter().find(|p| p.get("key").and_then(Value::as_str) == Some(key)).and_then(Value::as_object) {
            Some(preset) => Transformation::from_params(preset),
            None => Err(ApiError::invalid_query(format!("Key \"{key}\" isn't configured."))),
        }
    }

    /// `getAsset(id, transformation, range)`: 403 when the caller may not read the file, it
    /// doesn't exist, or its bytes are gone; 416 for a range outside the bytes.
    pub async fn get_asset(&self, id: &str, transformation: &Transformation, range: Option<RangeRequest>) -> Result<Asset, ApiError> {
        if uuid::Uuid::parse_str(id).is_err() {
            return Err(ApiError::forbidden());
        }
        let settings = self.settings().await?;
        let public = ["project_logo", "public_foreground", "public_background"].iter().any(|k| settings.get(*k).and_then(Value::as_str) == Some(id));
        let by_id = Query { filter: Some(json!({ "id": { "_eq": id } })), limit: Some(1), ..Default::default() };
        if !public && !self.accountability.as_ref().is_some_and(|a| a.admin) {
            // keys_by_query applies the read permission without emitting `files.read`.
            if self.items(self.accountability.clone()).keys_by_query(&by_id).await?.is_empty() {
                return Err(ApiError::forbidden());
            }
        }
        let file = match self.items(None).read_by_query(&by_id).await?.into_iter().next() {
            Some(Value::Object(file)) => file,
            _ => return Err(ApiError::forbidden()),
        };
        let field = |k: &str| file.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
        let (location, filename_disk, mime) = (field("storage"), field("filename_disk"), essence(&field("type")));
        let disk = self.services.storage.disk(&location).ok_or_else(ApiError::forbidden)?;
        let unavailable = |e: std::io::Error| {
            tracing::warn!("reading stored file {filename_disk}: {e}");
            ApiError::service_unavailable(format!("Couldn't read file {filename_disk}"), "files")
        };
        if filename_disk.is_empty() {
            return Err(ApiError::forbidden());
        }
        let stat = disk.stat(&filename_disk).await.map_err(unavailable)?.ok_or_else(ApiError::forbidden)?;
        let (path, stat, content_type) = if !transformation.is_empty() && TRANSFORMABLE.contains(&mime.as_str()) {
            let format = transformation.format.or_else(|| Format::of_type(&mime)).unwrap_or(Format::Png);
            let variant = format!("{id}{}.{}", transformation.suffix(), format.extension());
            let stat = match disk.stat(&variant).await.map_err(unavailable)? {
                Some(stat) => stat,
                None => {
                    let original = read_all(disk.get(&filename_disk, None).await.map_err(unavailable)?).await.map_err(unavailable)?;
                    let max = self.max_dimension();
                    let t = transformation.clone();
                    let bytes = tokio::task::spawn_blocking(move || transform(&original, &t, format, max)).await.map_err(|e| ApiError::internal(e.to_string()))??;
                    let stream: ByteStream<'static> = Box::pin(futures_util::stream::once(async move { Ok(bytes::Bytes::from(bytes)) }));
                    disk.put(&variant, stream).await.map_err(unavailable)?;
                    disk.stat(&variant).await.map_err(unavailable)?.ok_or_else(ApiError::forbidden)?
                }
            };
            (variant, stat, format.mime().to_string())
        } else {
            (filename_disk.clone(), stat, field("type"))
        };
        let range = match range {
            Some(r) => Some(r.resolve(stat.size).ok_or_else(|| range_not_satisfiable(stat.size))?),
            None => None,
        };
        let stream = disk.get(&path, range).await.map_err(unavailable)?;
        let content_type = if content_type.is_empty() { "application/octet-stream".into() } else { content_type };
        Ok(Asset { file, stat, content_type, range, stream })
    }

    fn max_dimension(&self) -> u32 {
        self.services.storage.transform_max_dimension()
    }
}

fn range_not_satisfiable(size: u64) -> ApiError {
    let mut ext = Map::new();
    ext.insert("size".into(), json!(size));
    ApiError::new(ErrorCode::RangeNotSatisfiable, "Range is not satisfiable.").with_extensions(ext)
}

async fn read_all(mut stream: ByteStream<'static>) -> std::io::Result<Vec<u8>> {
    use futures_util::TryStreamExt;
    let mut out = Vec::new();
    while let Some(chunk) = stream.try_next().await? {
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// Decodes, resizes and encodes (blocking: runs on the blocking pool).
fn transform(original: &[u8], t: &Transformation, format: Format, max_dimension: u32) -> Result<Vec<u8>, ApiError> {
    let too_large = || illegal("Image is too large to be transformed, or image size couldn't be determined.");
    if t.width.is_some_and(|w| w > max_dimension) || t.height.is_some_and(|h| h > max_dimension) {
        return Err(too_large());
    }
    let reader = || image::ImageReader::new(Cursor::new(original)).with_guessed_format();
    let (w, h) = reader().ok().and_then(|r| r.into_dimensions().ok()).ok_or_else(too_large)?;
    if w > max_dimension || h > max_dimension {
        return Err(too_large());
    }
    let image = reader().map_err(|e| ApiError::internal(e.to_string()))?.decode().map_err(|e| illegal(format!("Can't decode the image: {e}")))?;
    let image = resize(image, t);
    let mut out = Cursor::new(Vec::new());
    let encoded = match format {
        Format::Jpeg => {
            let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, t.quality.unwrap_or(80));
            image::DynamicImage::ImageRgb8(image.to_rgb8()).write_with_encoder(encoder)
        }
        Format::Png => image.write_to(&mut out, image::ImageFormat::Png),
        Format::Webp => image::DynamicImage::ImageRgba8(image.to_rgba8()).write_with_encoder(image::codecs::webp::WebPEncoder::new_lossless(&mut out)),
    };
    encoded.map_err(|e| ApiError::internal(format!("Can't encode the image: {e}")))?;
    Ok(out.into_inner())
}

fn scaled(side: u32, target: u32, of: u32) -> u32 {
    ((side as f64 * target as f64 / of as f64).round() as u32).max(1)
}

fn resize(image: image::DynamicImage, t: &Transformation) -> image::DynamicImage {
    use image::imageops::FilterType::Lanczos3;
    let (w, h) = (image.width(), image.height());
    let (tw, th) = match (t.width, t.height) {
        (None, None) => return image,
        (Some(tw), None) => (tw, scaled(h, tw, w)),
        (None, Some(th)) => (scaled(w, th, h), th),
        (Some(tw), Some(th)) => (tw, th),
    };
    if t.without_enlargement && w <= tw && h <= th {
        return image;
    }
    if t.width.is_none() || t.height.is_none() {
        return image.resize_exact(tw, th, Lanczos3);
    }
    match t.fit.unwrap_or_default() {
        Fit::Cover => image.resize_to_fill(tw, th, Lanczos3),
        Fit::Inside => image.resize(tw, th, Lanczos3),
        Fit::Outside => {
            let scale = (tw as f64 / w as f64).max(th as f64 / h as f64);
            image.resize_exact(((w as f64 * scale).round() as u32).max(1), ((h as f64 * scale).round() as u32).max(1), Lanczos3)
        }
        Fit::Contain => {
            let inner = image.resize(tw, th, Lanczos3).to_rgba8();
            let mut canvas = image::RgbaImage::from_pixel(tw, th, image::Rgba([0, 0, 0, 255]));
            let (x, y) = ((tw - inner.width()) / 2, (th - inner.height()) / 2);
            image::imageops::overlay(&mut canvas, &inner, x as i64, y as i64);
            image::DynamicImage::ImageRgba8(canvas)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(width: Option<u32>, height: Option<u32>, fit: Fit) -> Transformation {
        Transformation { width, height, fit: Some(fit), ..Default::default() }
    }

    #[test]
    fn fits_like_sharp() {
        let image = image::DynamicImage::new_rgb8(400, 200);
        assert_eq!(resize(image.clone(), &t(Some(100), Some(100), Fit::Cover)).dimensions_pair(), (100, 100));
        assert_eq!(resize(image.clone(), &t(Some(100), Some(100), Fit::Contain)).dimensions_pair(), (100, 100));
        assert_eq!(resize(image.clone(), &t(Some(100), Some(100), Fit::Inside)).dimensions_pair(), (100, 50));
        assert_eq!(resize(image.clone(), &t(Some(100), Some(100), Fit::Outside)).dimensions_pair(), (200, 100));
        assert_eq!(resize(image.clone(), &t(Some(100), None, Fit::Cover)).dimensions_pair(), (100, 50));
        let keep = Transformation { width: Some(800), height: Some(800), without_enlargement: true, ..Default::default() };
        assert_eq!(resize(image, &keep).dimensions_pair(), (400, 200));
    }

    trait Pair {
        fn dimensions_pair(&self) -> (u32, u32);
    }
    impl Pair for image::DynamicImage {
        fn dimensions_pair(&self) -> (u32, u32) {
            (self.width(), self.height())
        }
    }

    #[test]
    fn ranges() {
        let r = |s| RangeRequest::parse(s).unwrap().resolve(100);
        assert_eq!(r("bytes=0-9"), Some(ByteRange { start: 0, end: 9 }));
        assert_eq!(r("bytes=90-"), Some(ByteRange { start: 90, end: 99 }));
        assert_eq!(r("bytes=-10"), Some(ByteRange { start: 90, end: 99 }));
        assert_eq!(r("bytes=50-500"), Some(ByteRange { start: 50, end: 99 }));
        assert_eq!(r("bytes=100-"), None);
        assert_eq!(RangeRequest::parse("bytes=0-1,5-6"), None);
        assert_eq!(RangeRequest::parse("items=1-2"), None);
    }

    #[test]
    fn parameters() {
        let params = |v: Value| Transformation::from_params(v.as_object().unwrap());
        let parsed = params(json!({ "width": "20", "fit": "inside", "quality": 50, "format": "webp" })).unwrap();
        assert_eq!(parsed, Transformation { width: Some(20), fit: Some(Fit::Inside), quality: Some(50), format: Some(Format::Webp), ..Default::default() });
        assert!(params(json!({ "fit": "stretch" })).is_err());
        assert!(params(json!({ "quality": "0" })).is_err());
        assert!(params(json!({ "width": "-3" })).is_err());
    }
}
