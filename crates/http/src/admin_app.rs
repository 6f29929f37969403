//! The Directus admin app (the Data Studio) at `/admin`, and the redirect of `/` to
//! `ROOT_REDIRECT`, as Directus serves them.
//!
//! The app is the static build of the npm package `@directus/app`. It is never embedded: it is
//! found the way Node would resolve `@directus/app/dist/index.html` from the working directory
//! (`node_modules` there, then in every parent folder, then the folders of `NODE_PATH`), so
//! `npm install @directus/app@9.0.0-rc.83` next to the data is all it takes. `SERVE_APP=false`
//! turns it off (a variable of later Directus releases; rc.83 always served it).
//!
//! - `/admin` and every `/admin/*` path that is not a file of the build answer the app's
//!   `index.html` with `<base href="<PUBLIC_URL>/admin/">`, so the app's relative URLs and its
//!   router work behind any public URL; it is sent with `Cache-Control: no-cache` so a new build
//!   is picked up at once.
//! - Files of the build get their type from their extension and `Last-Modified` (conditional
//!   requests answer 304). Files whose name carries the build's content hash
//!   (`index.3d271aa1.js`) never change and are cached for a year; others (`favicon.ico`,
//!   `manifest.webmanifest`, images) are revalidated on each use.
//!
//! - Every `/admin` response carries the security headers later Directus releases send (helmet's
//!   defaults as Directus adjusted them): a `Content-Security-Policy` that keeps scripts, styles
//!   and connections to this origin (and `PUBLIC_URL`'s, where the `<base href>` points), allows
//!   `'unsafe-eval'` (the app's i18n compiles messages at run time) and forbids framing by other
//!   sites (`frame-ancestors 'self'`), plus `X-Frame-Options: SAMEORIGIN` for browsers that
//!   predate `frame-ancestors`, and `X-Content-Type-Options: nosniff`.
//!
//! These routes sit outside the API's middleware, as in Directus where they come before the rate
//! limiter and authentication: a stale `?access_token=` never stops the app from loading.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use rectus_core::config::Env;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tower::ServiceExt;
use tower_http::services::ServeDir;

/// The package Directus serves the app from, and the version this release of Rectus speaks to.
pub const PACKAGE: &str = "@directus/app";
pub const PINNED_VERSION: &str = "9.0.0-rc.83";

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "public, max-age=0";

/// The `dist` folder of `@directus/app`, resolved like Node's `require.resolve` from `cwd`.
pub fn locate(cwd: &Path) -> Option<PathBuf> {
    let from_node_modules = cwd.ancestors().filter(|dir| dir.file_name().is_none_or(|n| n != "node_modules")).map(|dir| dir.join("node_modules"));
    let from_node_path = std::env::var_os("NODE_PATH").into_iter().flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>());
    from_node_modules.chain(from_node_path).map(|modules| modules.join(PACKAGE).join("dist")).find(|dist| dist.join("index.html").is_file())
}

/// The one line `rectus start` logs when the app is to be served but isn't installed.
pub fn missing_hint(cwd: &Path) -> String {
    format!(
        "The admin app is not installed, so /admin answers 404: run `npm install {PACKAGE}@{PINNED_VERSION}` in {} (or set SERVE_APP=false)",
        cwd.display()
    )
}

/// The app's `index.html` with its `<base href>` pointing at `<public_url>/admin/`.
pub fn index_with_base(html: &str, public_url: &str) -> String {
    let base = format!("{}/admin/", public_url.trim_end_matches('/'));
    let escaped = base.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;");
    let tag = format!("<base href=\"{escaped}\">");
    let head_end = html.to_ascii_lowercase().find("<head").and_then(|start| html[start..].find('>').map(|end| start + end + 1));
    match head_end {
        Some(at) => format!("{}\n\t\t{tag}{}", &html[..at], &html[at..]),
        None => format!("{tag}\n{html}"),
    }
}

struct AdminApp {
    index: String,
    files: ServeDir,
}

/// The `/` redirect, and the app's routes when it is served and installed.
pub fn router(env: &Env, cwd: &Path, public_url: &str) -> Router {
    let mut router = Router::new();
    if let Some(target) = env.string("ROOT_REDIRECT").filter(|t| !t.is_empty() && t != "false") {
        router = router.route("/", get(move || async move { root_redirect(&target) }));
    }
    if env.bool("SERVE_APP") == Some(false) {
        return router;
    }
    let Some(dist) = locate(cwd) else { return router };
    let page = match std::fs::read_to_string(dist.join("index.html")) {
        Ok(html) => index_with_base(&html, public_url),
        Err(e) => {
            tracing::warn!("can't read {}: {e}; the admin app is not served", dist.join("index.html").display());
            return router;
        }
    };
    let app = Arc::new(AdminApp { index: page, files: ServeDir::new(&dist).append_index_html_on_directories(false) });
    let headers = Arc::new(security_headers(public_url));
    let app_routes = Router::new()
        .route("/admin", get(index))
        .route("/admin/{*path}", get(file))
        .with_state(app)
        .layer(axum::middleware::map_response_with_state(headers, add_headers));
    router.merge(app_routes)
}

/// The app's `Content-Security-Policy`; `public_url`'s origin joins `'self'` where the app loads
/// from or talks to it.
pub fn content_security_policy(public_url: &str) -> String {
    let public = url::Url::parse(public_url).ok().map(|u| u.origin()).filter(|o| o.is_tuple()).map(|o| format!(" {}", o.ascii_serialization())).unwrap_or_default();
    [
        format!("default-src 'self'{public}"),
        "base-uri 'self'".to_string() + &public,
        format!("script-src 'self'{public} 'unsafe-eval'"),
        "script-src-attr 'none'".to_string(),
        format!("style-src 'self'{public} https: 'unsafe-inline'"),
        format!("img-src 'self'{public} data: blob: https:"),
        format!("media-src 'self'{public} data: blob: https:"),
        format!("font-src 'self'{public} https: data:"),
        format!("connect-src 'self'{public} https:"),
        format!("worker-src 'self'{public} blob:"),
        format!("child-src 'self'{public} blob:"),
        "object-src 'none'".to_string(),
        "form-action 'self'".to_string() + &public,
        "frame-ancestors 'self'".to_string(),
    ]
    .join("; ")
}

fn security_headers(public_url: &str) -> Vec<(header::HeaderName, HeaderValue)> {
    let csp = HeaderValue::from_str(&content_security_policy(public_url)).unwrap_or_else(|_| HeaderValue::from_static("frame-ancestors 'self'"));
    vec![
        (header::CONTENT_SECURITY_POLICY, csp),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("SAMEORIGIN")),
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
    ]
}

async fn add_headers(State(headers): State<Arc<Vec<(header::HeaderName, HeaderValue)>>>, mut response: Response) -> Response {
    for (name, value) in headers.iter() {
        response.headers_mut().insert(name.clone(), value.clone());
    }
    response
}

/// Express's `res.redirect`: a 302 with the target as given (relative targets are resolved by
/// the browser) and a short text body.
fn root_redirect(target: &str) -> Response {
    let mut response = Redirect::to(target).into_response();
    *response.status_mut() = StatusCode::FOUND;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    *response.body_mut() = Body::from(format!("Found. Redirecting to {target}"));
    response
}

async fn index(State(app): State<Arc<AdminApp>>) -> Response {
    html(&app)
}

fn html(app: &AdminApp) -> Response {
    let headers = [(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")];
    (headers, app.index.clone()).into_response()
}

/// A file of the build, or the app's page for any other path (the app's own router shows it).
async fn file(State(app): State<Arc<AdminApp>>, req: Request) -> Response {
    let path = req.uri().path().strip_prefix("/admin").unwrap_or("/").to_string();
    let Ok(uri) = path.parse::<Uri>() else { return html(&app) };
    let method = if req.method() == Method::HEAD { Method::HEAD } else { Method::GET };
    let mut inner = Request::builder().method(method).uri(uri);
    for name in [header::IF_MODIFIED_SINCE, header::IF_UNMODIFIED_SINCE, header::RANGE, header::IF_RANGE] {
        if let Some(value) = req.headers().get(&name) {
            inner = inner.header(name, value);
        }
    }
    let Ok(inner) = inner.body(Body::empty()) else { return html(&app) };
    let Ok(response) = app.files.clone().oneshot(inner).await;
    if response.status() == StatusCode::NOT_FOUND {
        return html(&app);
    }
    let mut response = response.map(Body::new);
    let cache = if has_content_hash(&path) { IMMUTABLE } else { REVALIDATE };
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

/// Whether a file name carries the 8-hex-digit content hash the app's build gives its chunks
/// (`vendor.0c19dc20.js`, `Inter-Bold.f0f54a06.woff2`).
fn has_content_hash(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    let mut parts = name.rsplit('.');
    let (_extension, hash) = (parts.next(), parts.next());
    parts.next().is_some() && hash.is_some_and(|h| h.len() == 8 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_goes_first_in_head_with_one_slash() {
        let html = "<!DOCTYPE html><html><head>\n<meta charset=\"utf-8\" /><link href=\"a.css\"></head></html>";
        let out = index_with_base(html, "https://example.com/cms/");
        assert!(out.contains("<head>\n\t\t<base href=\"https://example.com/cms/admin/\">\n<meta charset"), "{out}");
        assert_eq!(index_with_base("<p>", "http://x\""), "<base href=\"http://x&quot;/admin/\">\n<p>");
    }

    #[test]
    fn policy_names_the_public_origin_and_forbids_foreign_frames() {
        let csp = content_security_policy("https://cms.example/api/");
        assert!(csp.contains("script-src 'self' https://cms.example 'unsafe-eval'"), "{csp}");
        assert!(csp.ends_with("frame-ancestors 'self'"), "{csp}");
        assert!(content_security_policy("/").starts_with("default-src 'self'; base-uri 'self'; "));
    }

    #[test]
    fn content_hashes() {
        assert!(has_content_hash("/assets/vendor.0c19dc20.js"));
        assert!(has_content_hash("/index.3d271aa1.js"));
        assert!(!has_content_hash("/favicon.ico"));
        assert!(!has_content_hash("/0c19dc20.js"));
        assert!(!has_content_hash("/img/android-chrome-512x512.png"));
    }

    #[test]
    fn found_in_a_parent_folder() {
        let root = std::env::temp_dir().join(format!("rectus-locate-{}", std::process::id()));
        let dist = root.join("node_modules/@directus/app/dist");
        std::fs::create_dir_all(&dist).unwrap();
        let deep = root.join("data/a/b");
        std::fs::create_dir_all(&deep).unwrap();
        assert_eq!(locate(&deep), None, "no index.html yet");
        std::fs::write(dist.join("index.html"), "<html>").unwrap();
        assert_eq!(locate(&deep), Some(dist.clone()));
        assert_eq!(locate(&root.join("node_modules/x")), Some(dist), "a node_modules folder itself is skipped, as Node does");
        std::fs::remove_dir_all(&root).unwrap();
    }
}
