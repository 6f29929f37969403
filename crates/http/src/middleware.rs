//! Per-request context: the accountability (token from `Authorization: Bearer` or
//! `?access_token=`, spec §7.1) and the final rendering of errors into the envelope.

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use rectus_core::auth::{tokens, Accountability};
use rectus_core::ApiError;
use std::net::SocketAddr;

use crate::error::render;
use crate::state::AppState;

fn token(req: &Request) -> Option<String> {
    let header = req.headers().get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| {
        let mut parts = v.splitn(2, ' ');
        match (parts.next(), parts.next()) {
            (Some("Bearer"), Some(t)) if !t.is_empty() => Some(t.to_string()),
            _ => None,
        }
    });
    header.or_else(|| {
        req.uri().query().and_then(|q| {
            q.split('&').find_map(|pair| pair.strip_prefix("access_token=").map(|t| percent_decode(t)))
        })
    })
}

fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(&text.replace('+', " ")).decode_utf8_lossy().into_owned()
}

fn client_ip(req: &Request) -> Option<String> {
    let forwarded = req.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok()).and_then(|v| v.split(',').next()).map(|s| s.trim().to_string());
    forwarded.or_else(|| {
        req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| {
            let ip = c.0.ip().to_string();
            ip.strip_prefix("::ffff:").map(str::to_string).unwrap_or(ip)
        })
    })
}

pub async fn request_context(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let ip = client_ip(&req);
    let user_agent = req.headers().get(axum::http::header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_string);
    let accountability = match token(&req) {
        None => Accountability::public(ip, user_agent),
        Some(t) => match tokens::authenticate(&state.services.db, &state.config.secret, &t, ip, user_agent).await {
            Ok(a) => a,
            Err(e) => return render(&e, false),
        },
    };
    let admin = accountability.admin;
    req.extensions_mut().insert(accountability);
    let mut response = next.run(req).await;
    match response.extensions_mut().remove::<ApiError>() {
        Some(error) => render(&error, admin),
        None => response,
    }
}
