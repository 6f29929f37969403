//! Outbound HTTP for `http`/`https` and `fetch`: one reqwest client per isolate (and per
//! redirect/TLS-verification setting), so connections are pooled as Node's agents would pool
//! them. A request is sent with its whole body; the response head comes back at once and the
//! body is read chunk by chunk through [`Body`] handles.
//!
//! Differences from Node, chosen for a server running other people's hooks: connecting gives up
//! after 30 s and a read that waits for more than 5 minutes fails (Node waits forever), so a
//! hook that never stops waiting can't pin a connection for the life of the isolate. Proxies
//! from the environment are ignored, as by Node's `http`. reqwest sends `accept: */*` when the
//! request names no `accept`.

use deno_core::{op2, CancelFuture, CancelHandle, JsBuffer, OpState, ToJsBuffer};
use deno_error::JsErrorBox;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::error::Error as _;
use std::rc::Rc;
use std::time::Duration;

use super::tls::{client_config, refusal, TlsOptions};
use super::{coded, errno_code, resources};
use std::collections::HashMap;

/// An open response body.
pub struct Body {
    response: Rc<RefCell<Option<reqwest::Response>>>,
    cancel: Rc<CancelHandle>,
}

/// The isolate's clients, built on first use, by redirect policy and TLS options.
#[derive(Default)]
struct Clients(HashMap<(bool, TlsOptions), reqwest::Client>);

fn client(state: &mut OpState, follow: bool, tls: TlsOptions) -> Result<reqwest::Client, JsErrorBox> {
    if !state.has::<Clients>() {
        state.put(Clients::default());
    }
    let clients = &mut state.borrow_mut::<Clients>().0;
    if let Some(c) = clients.get(&(follow, tls.clone())) {
        return Ok(c.clone());
    }
    let (config, _) = client_config(&tls)?;
    let built = reqwest::Client::builder()
        .redirect(if follow { reqwest::redirect::Policy::limited(20) } else { reqwest::redirect::Policy::none() })
        .use_preconfigured_tls(config)
        .no_proxy()
        .connect_timeout(Duration::from_secs(30))
        .read_timeout(Duration::from_secs(300))
        .build()
        .map_err(|e| JsErrorBox::generic(format!("can't create the HTTP client: {e}")))?;
    Ok(clients.entry((follow, tls)).or_insert(built).clone())
}

#[derive(Deserialize)]
pub struct RequestSpec {
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    /// Follow redirects (fetch's default); `http.request` never does.
    follow: bool,
    /// `rejectUnauthorized`, `ca`, ... of the request or its agent.
    #[serde(default)]
    tls: TlsOptions,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseHead {
    rid: u32,
    status: u16,
    status_text: String,
    /// The final URL, after redirects.
    url: String,
    headers: Vec<(String, String)>,
}

/// A reqwest failure as Node would report it: `ECONNREFUSED: connect ECONNREFUSED host:port`.
fn request_error(e: &reqwest::Error, url: &reqwest::Url) -> JsErrorBox {
    let host = url.host_str().unwrap_or_default();
    let address = format!("{host}:{}", url.port_or_known_default().unwrap_or(0));
    let chain = std::iter::successors(e.source(), |&s| s.source()).map(|s| s.to_string()).collect::<Vec<_>>().join(": ");
    let io = std::iter::successors(e.source(), |&s| s.source()).find_map(|s| s.downcast_ref::<std::io::Error>());
    if let Some(refused) = refusal(e) {
        return refused;
    }
    if e.is_timeout() {
        return coded("ETIMEDOUT", format!("connect ETIMEDOUT {address}"));
    }
    if chain.contains("dns error") || chain.contains("failed to lookup address") {
        return coded("ENOTFOUND", format!("getaddrinfo ENOTFOUND {host}"));
    }
    if let Some(io) = io {
        let code = errno_code(io);
        if e.is_connect() {
            return coded(code, format!("connect {code} {address}"));
        }
        if code != "EIO" {
            return coded(code, format!("read {code}"));
        }
    }
    if chain.contains("connection closed") || chain.contains("IncompleteMessage") {
        return coded("ECONNRESET", "socket hang up");
    }
    let code = if e.is_connect() { "ECONNREFUSED" } else { "ERR_HTTP_REQUEST" };
    coded(code, format!("{e}{}", if chain.is_empty() { String::new() } else { format!(": {chain}") }))
}

#[op2]
#[serde]
pub async fn op_node_http_request(state: Rc<RefCell<OpState>>, #[serde] spec: RequestSpec, #[buffer] body: JsBuffer) -> Result<ResponseHead, JsErrorBox> {
    let client = client(&mut state.borrow_mut(), spec.follow, spec.tls)?;
    let url = reqwest::Url::parse(&spec.url).map_err(|e| coded("ERR_INVALID_URL", format!("Invalid URL {}: {e}", spec.url)))?;
    let method = reqwest::Method::from_bytes(spec.method.as_bytes()).map_err(|_| coded("ERR_INVALID_HTTP_TOKEN", format!("Method must be a valid HTTP token [\"{}\"]", spec.method)))?;
    let mut headers = reqwest::header::HeaderMap::new();
    for (name, value) in &spec.headers {
        // The body is sent whole, so its length and framing are reqwest's to state.
        if name.eq_ignore_ascii_case("content-length") || name.eq_ignore_ascii_case("transfer-encoding") {
            continue;
        }
        let n = reqwest::header::HeaderName::from_bytes(name.as_bytes()).map_err(|_| coded("ERR_INVALID_HTTP_TOKEN", format!("Header name must be a valid HTTP token [\"{name}\"]")))?;
        let v = reqwest::header::HeaderValue::from_str(value).map_err(|_| coded("ERR_INVALID_CHAR", format!("Invalid character in header content [\"{name}\"]")))?;
        headers.append(n, v);
    }
    let mut request = client.request(method, url.clone()).headers(headers);
    if !body.is_empty() {
        request = request.body(body.to_vec());
    }
    let response = request.send().await.map_err(|e| request_error(&e, &url))?;
    let head_headers = response.headers().iter().map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned())).collect();
    let status = response.status();
    let final_url = response.url().to_string();
    let mut state = state.borrow_mut();
    let res = resources(&mut state);
    let rid = res.id();
    res.bodies.insert(rid, Body { response: Rc::new(RefCell::new(Some(response))), cancel: Rc::new(CancelHandle::new()) });
    Ok(ResponseHead { rid, status: status.as_u16(), status_text: status.canonical_reason().unwrap_or_default().to_string(), url: final_url, headers: head_headers })
}

/// The next chunk of a response body, `null` at its end.
#[op2]
#[serde]
pub async fn op_node_http_read(state: Rc<RefCell<OpState>>, #[smi] rid: u32) -> Result<Option<ToJsBuffer>, JsErrorBox> {
    let (cell, cancel) = {
        let mut state = state.borrow_mut();
        let body = resources(&mut state).bodies.get(&rid).ok_or_else(|| coded("ERR_STREAM_DESTROYED", "the response body was closed"))?;
        (body.response.clone(), body.cancel.clone())
    };
    let mut response = cell.borrow_mut().take().ok_or_else(|| JsErrorBox::generic("a response body is being read twice at once"))?;
    let url = response.url().clone();
    match response.chunk().or_cancel(cancel).await {
        Err(_) => Err(coded("ERR_STREAM_DESTROYED", "the response body was closed")),
        Ok(Err(e)) => Err(request_error(&e, &url)),
        Ok(Ok(chunk)) => {
            *cell.borrow_mut() = Some(response);
            Ok(chunk.map(|c| c.to_vec().into()))
        }
    }
}

#[op2(fast)]
pub fn op_node_http_close(state: &mut OpState, #[smi] rid: u32) {
    if let Some(body) = resources(state).bodies.remove(&rid) {
        body.cancel.cancel();
    }
}
