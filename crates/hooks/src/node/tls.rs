//! TLS client sockets (`tls.connect`, STARTTLS upgrades) and the TLS settings of `https`
//! requests, on rustls (the stack reqwest and lettre already link).
//!
//! Certificates are checked as Node checks them: Mozilla's roots (webpki-roots, as Node bundles
//! them) or exactly the `ca` given, then the host name. A failed check carries Node's OpenSSL
//! code (`UNABLE_TO_VERIFY_LEAF_SIGNATURE`, `DEPTH_ZERO_SELF_SIGNED_CERT`,
//! `ERR_TLS_CERT_ALTNAME_INVALID`, ...) so hooks that look at `err.code` see what they would on
//! Node. With `rejectUnauthorized: false` the handshake goes on and the socket reports
//! `authorized: false` with that code as `authorizationError`.

use deno_core::{op2, OpState, ToJsBuffer};
use deno_error::JsErrorBox;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::{Arc, Mutex};

use super::net::Socket;
use super::{coded, errno_code, resources};

/// The TLS options of `tls.connect` / an https agent, as tls.js passes them.
#[derive(Deserialize, Default, Clone, PartialEq, Eq, Hash)]
#[serde(rename_all = "camelCase", default)]
pub struct TlsOptions {
    /// `rejectUnauthorized: false` accepts any certificate.
    pub insecure: bool,
    /// PEM texts replacing the default roots.
    pub ca: Option<Vec<String>>,
    /// A client certificate chain and its key, PEM.
    pub cert: Option<String>,
    pub key: Option<String>,
    pub min_version: Option<String>,
    pub max_version: Option<String>,
    #[serde(rename = "ALPNProtocols")]
    pub alpn_protocols: Vec<String>,
}

/// Why a certificate was refused, with Node's code.
#[derive(Debug)]
struct Refused {
    code: &'static str,
    message: String,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Refused {}

/// webpki's verdict, restated in Node's terms; with `insecure` a refusal is recorded and the
/// handshake continues.
#[derive(Debug)]
pub(crate) struct NodeVerifier {
    webpki: Arc<WebPkiServerVerifier>,
    insecure: bool,
    refused: Mutex<Option<(&'static str, String)>>,
}

impl ServerCertVerifier for NodeVerifier {
    fn verify_server_cert(&self, leaf: &CertificateDer<'_>, intermediates: &[CertificateDer<'_>], name: &ServerName<'_>, ocsp: &[u8], now: UnixTime) -> Result<ServerCertVerified, rustls::Error> {
        let Err(e) = self.webpki.verify_server_cert(leaf, intermediates, name, ocsp, now) else {
            return Ok(ServerCertVerified::assertion());
        };
        let (code, message) = node_reason(&e, leaf, intermediates, name);
        if self.insecure {
            *self.refused.lock().unwrap() = Some((code, message));
            return Ok(ServerCertVerified::assertion());
        }
        Err(rustls::Error::InvalidCertificate(CertificateError::Other(rustls::OtherError(Arc::new(Refused { code, message })))))
    }

    fn verify_tls12_signature(&self, message: &[u8], cert: &CertificateDer<'_>, dss: &DigitallySignedStruct) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(&self, message: &[u8], cert: &CertificateDer<'_>, dss: &DigitallySignedStruct) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

/// Node's (OpenSSL's) code and message for a refused certificate chain.
fn node_reason(e: &rustls::Error, leaf: &CertificateDer<'_>, intermediates: &[CertificateDer<'_>], name: &ServerName<'_>) -> (&'static str, String) {
    let rustls::Error::InvalidCertificate(e) = e else {
        return ("CERT_REJECTED", e.to_string());
    };
    let self_issued = |der: &CertificateDer<'_>| parse(der).is_some_and(|c| c.tbs_certificate.issuer == c.tbs_certificate.subject);
    let (code, message) = match e {
        CertificateError::UnknownIssuer if intermediates.is_empty() && self_issued(leaf) => ("DEPTH_ZERO_SELF_SIGNED_CERT", "self-signed certificate"),
        CertificateError::UnknownIssuer if intermediates.iter().any(self_issued) => ("SELF_SIGNED_CERT_IN_CHAIN", "self-signed certificate in certificate chain"),
        CertificateError::UnknownIssuer if intermediates.is_empty() => ("UNABLE_TO_VERIFY_LEAF_SIGNATURE", "unable to verify the first certificate"),
        CertificateError::UnknownIssuer => ("UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "unable to get local issuer certificate"),
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => ("CERT_HAS_EXPIRED", "certificate has expired"),
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => ("CERT_NOT_YET_VALID", "certificate is not yet valid"),
        CertificateError::Revoked => ("CERT_REVOKED", "certificate revoked"),
        CertificateError::BadSignature => ("CERT_SIGNATURE_FAILURE", "certificate signature failure"),
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            let host = match name {
                ServerName::DnsName(d) => format!("Host: {}. is not in the cert's altnames", d.as_ref()),
                ServerName::IpAddress(ip) => format!("IP: {} is not in the cert's list", std::net::IpAddr::from(*ip)),
                _ => "the name is not in the cert's altnames".into(),
            };
            let alt = parse(leaf).map(|c| alt_names(&c)).unwrap_or_default();
            return ("ERR_TLS_CERT_ALTNAME_INVALID", format!("Hostname/IP does not match certificate's altnames: {host}: {alt}"));
        }
        _ => ("CERT_REJECTED", "certificate rejected"),
    };
    (code, message.to_string())
}

fn pem_certificates(pem: &str, what: &str) -> Result<Vec<CertificateDer<'static>>, JsErrorBox> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes()).collect::<Result<Vec<_>, _>>().map_err(|e| coded("ERR_OSSL_PEM_BAD_BASE64_DECODE", format!("{what}: {e}")))?;
    if certs.is_empty() {
        return Err(coded("ERR_OSSL_PEM_NO_START_LINE", format!("{what}: no PEM certificate found")));
    }
    Ok(certs)
}

fn protocol(name: &str) -> Result<u8, JsErrorBox> {
    match name {
        // rustls speaks TLS 1.2 and 1.3 only; asking for older versions still gets those.
        "TLSv1" | "TLSv1.1" | "TLSv1.2" => Ok(2),
        "TLSv1.3" => Ok(3),
        _ => Err(coded("ERR_TLS_INVALID_PROTOCOL_VERSION", format!("{name} is not a valid TLS protocol version"))),
    }
}

/// A rustls configuration for `options`, and the verifier that remembers an accepted refusal.
pub(crate) fn client_config(options: &TlsOptions) -> Result<(ClientConfig, Arc<NodeVerifier>), JsErrorBox> {
    let mut roots = RootCertStore::empty();
    match &options.ca {
        Some(pems) => {
            for pem in pems {
                for cert in pem_certificates(pem, "ca")? {
                    roots.add(cert).map_err(|e| coded("ERR_OSSL_X509_BAD_CERT", format!("ca: {e}")))?;
                }
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| coded("ERR_TLS_INVALID_CONTEXT", format!("ca: {e}")))?;
    let verifier = Arc::new(NodeVerifier { webpki, insecure: options.insecure, refused: Mutex::new(None) });
    let min = options.min_version.as_deref().map(protocol).transpose()?.unwrap_or(2);
    let max = options.max_version.as_deref().map(protocol).transpose()?.unwrap_or(3);
    let versions: Vec<&'static rustls::SupportedProtocolVersion> =
        [(2, &rustls::version::TLS12), (3, &rustls::version::TLS13)].into_iter().filter(|(v, _)| (min..=max).contains(v)).map(|(_, p)| p).collect();
    if versions.is_empty() {
        return Err(coded("ERR_TLS_PROTOCOL_VERSION_CONFLICT", "minVersion is above maxVersion"));
    }
    let builder = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&versions)
        .map_err(|e| coded("ERR_TLS_INVALID_CONTEXT", e))?
        .dangerous()
        .with_custom_certificate_verifier(verifier.clone());
    let mut config = match (&options.cert, &options.key) {
        (Some(cert), Some(key)) => {
            let key = PrivateKeyDer::from_pem_slice(key.as_bytes()).map_err(|e| coded("ERR_OSSL_PEM_NO_START_LINE", format!("key: {e}")))?;
            builder.with_client_auth_cert(pem_certificates(cert, "cert")?, key).map_err(|e| coded("ERR_OSSL_X509_KEY_VALUES_MISMATCH", format!("cert/key: {e}")))?
        }
        (None, None) => builder.with_no_client_auth(),
        _ => return Err(coded("ERR_TLS_INVALID_CONTEXT", "a client certificate needs both `cert` and `key`")),
    };
    config.alpn_protocols = options.alpn_protocols.iter().map(|p| p.as_bytes().to_vec()).collect();
    Ok((config, verifier))
}

impl NodeVerifier {
    /// The refusal `rejectUnauthorized: false` let pass, after the handshake.
    fn refused(&self) -> Option<(&'static str, String)> {
        self.refused.lock().unwrap().clone()
    }
}

/// A refused certificate anywhere in an error's sources, as `CODE: message`.
pub(crate) fn refusal(e: &(dyn std::error::Error + 'static)) -> Option<JsErrorBox> {
    let mut next = Some(e);
    while let Some(e) = next {
        if let Some(rustls::Error::InvalidCertificate(CertificateError::Other(other))) = e.downcast_ref::<rustls::Error>() {
            if let Some(r) = other.0.downcast_ref::<Refused>() {
                return Some(coded(r.code, &r.message));
            }
        }
        // An io::Error's `source()` skips the error it wraps.
        let wrapped = e.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()).map(|inner| inner as &(dyn std::error::Error + 'static));
        next = wrapped.or_else(|| e.source());
    }
    None
}

/// A failed handshake as Node reports it.
fn handshake_error(e: std::io::Error) -> JsErrorBox {
    if let Some(refused) = refusal(&e) {
        return refused;
    }
    if let Some(tls) = e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
        return coded("EPROTO", format!("TLS handshake failed: {tls}"));
    }
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        return coded("ECONNRESET", "Client network socket disconnected before secure TLS connection was established");
    }
    let code = errno_code(&e);
    coded(code, format!("read {code}"))
}

/// The connection a handshake produced.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Secured {
    rid: u32,
    authorized: bool,
    authorization_error: Option<&'static str>,
    protocol: Option<&'static str>,
    cipher: Option<&'static str>,
    alpn_protocol: Option<String>,
    /// The server's chain, leaf first.
    peer_certificates: Vec<PeerCertificate>,
}

/// What `getPeerCertificate()` shows of one certificate.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PeerCertificate {
    subject: BTreeMap<String, serde_json::Value>,
    issuer: BTreeMap<String, serde_json::Value>,
    #[serde(rename = "subjectaltname", skip_serializing_if = "Option::is_none")]
    subject_alt_name: Option<String>,
    #[serde(rename = "valid_from")]
    valid_from: String,
    #[serde(rename = "valid_to")]
    valid_to: String,
    serial_number: String,
    fingerprint: String,
    fingerprint256: String,
    raw: ToJsBuffer,
}

fn parse(der: &CertificateDer<'_>) -> Option<x509_cert::Certificate> {
    use x509_cert::der::Decode;
    x509_cert::Certificate::from_der(der.as_ref()).ok()
}

/// A distinguished name as Node's object: `{ O: 'Acme', CN: 'example.com' }`, repeated
/// attributes as arrays.
fn name_object(name: &x509_cert::name::Name) -> BTreeMap<String, serde_json::Value> {
    let mut out: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    for atv in name.0.iter().flat_map(|rdn| rdn.0.iter()) {
        let key = match atv.oid.to_string().as_str() {
            "2.5.4.3" => "CN".to_string(),
            "2.5.4.5" => "serialNumber".to_string(),
            "2.5.4.6" => "C".to_string(),
            "2.5.4.7" => "L".to_string(),
            "2.5.4.8" => "ST".to_string(),
            "2.5.4.9" => "street".to_string(),
            "2.5.4.10" => "O".to_string(),
            "2.5.4.11" => "OU".to_string(),
            "1.2.840.113549.1.9.1" => "emailAddress".to_string(),
            "0.9.2342.19200300.100.1.25" => "DC".to_string(),
            other => other.to_string(),
        };
        let value = serde_json::Value::String(String::from_utf8_lossy(atv.value.value()).into_owned());
        match out.get_mut(&key) {
            Some(serde_json::Value::Array(values)) => values.push(value),
            Some(first) => *first = serde_json::Value::Array(vec![first.take(), value]),
            None => {
                out.insert(key, value);
            }
        }
    }
    out
}

/// `DNS:example.com, IP Address:127.0.0.1`, as Node's `subjectaltname`.
fn alt_names(cert: &x509_cert::Certificate) -> String {
    use x509_cert::der::Decode;
    use x509_cert::ext::pkix::name::GeneralName;
    let Some(ext) = cert.tbs_certificate.extensions.iter().flatten().find(|e| e.extn_id.to_string() == "2.5.29.17") else {
        return String::new();
    };
    let Ok(names) = x509_cert::ext::pkix::SubjectAltName::from_der(ext.extn_value.as_bytes()) else {
        return String::new();
    };
    let names: Vec<String> = names
        .0
        .iter()
        .filter_map(|n| match n {
            GeneralName::DnsName(d) => Some(format!("DNS:{}", d.as_str())),
            GeneralName::Rfc822Name(m) => Some(format!("email:{}", m.as_str())),
            GeneralName::UniformResourceIdentifier(u) => Some(format!("URI:{}", u.as_str())),
            GeneralName::IpAddress(ip) => {
                let b = ip.as_bytes();
                let ip = <[u8; 4]>::try_from(b).map(std::net::IpAddr::from).or_else(|_| <[u8; 16]>::try_from(b).map(std::net::IpAddr::from)).ok()?;
                Some(format!("IP Address:{ip}"))
            }
            _ => None,
        })
        .collect();
    names.join(", ")
}

fn fingerprint(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
}

/// OpenSSL's date format, as Node's `valid_from`: `Jan  1 00:00:00 2025 GMT`.
fn openssl_date(time: x509_cert::time::Time) -> String {
    let secs = time.to_unix_duration().as_secs() as i64;
    chrono::DateTime::from_timestamp(secs, 0).map(|t| t.format("%b %e %H:%M:%S %Y GMT").to_string()).unwrap_or_default()
}

fn peer_certificate(der: &CertificateDer<'_>) -> PeerCertificate {
    use sha2::Digest;
    let cert = parse(der);
    let tbs = cert.as_ref().map(|c| &c.tbs_certificate);
    let serial = tbs.map(|t| t.serial_number.as_bytes()).unwrap_or_default();
    let serial = &serial[serial.iter().position(|b| *b != 0).unwrap_or(serial.len().saturating_sub(1))..];
    PeerCertificate {
        subject: tbs.map(|t| name_object(&t.subject)).unwrap_or_default(),
        issuer: tbs.map(|t| name_object(&t.issuer)).unwrap_or_default(),
        subject_alt_name: cert.as_ref().map(alt_names).filter(|s| !s.is_empty()),
        valid_from: tbs.map(|t| openssl_date(t.validity.not_before)).unwrap_or_default(),
        valid_to: tbs.map(|t| openssl_date(t.validity.not_after)).unwrap_or_default(),
        serial_number: serial.iter().map(|b| format!("{b:02X}")).collect(),
        fingerprint: fingerprint(&sha1::Sha1::digest(der.as_ref())),
        fingerprint256: fingerprint(&sha2::Sha256::digest(der.as_ref())),
        raw: der.as_ref().to_vec().into(),
    }
}

/// Wraps the connected socket `rid` in TLS (a fresh `tls.connect` or a STARTTLS upgrade). The
/// socket's id is spent: the secured connection gets a new one.
#[op2]
#[serde]
pub async fn op_node_tls_upgrade(state: Rc<RefCell<OpState>>, #[smi] rid: u32, #[string] server_name: String, #[serde] options: TlsOptions) -> Result<Secured, JsErrorBox> {
    let name = ServerName::try_from(server_name.clone()).map_err(|_| coded("ERR_INVALID_ARG_VALUE", format!("servername {server_name:?} is not a host name or IP address")))?;
    let (config, verdict) = client_config(&options)?;
    let socket = resources(&mut state.borrow_mut()).sockets.remove(&rid).ok_or_else(|| coded("ERR_SOCKET_CLOSED", "Socket is closed"))?;
    let stream = socket.into_stream().await.ok_or_else(|| coded("ERR_SOCKET_CLOSED", "Socket is closed"))?;
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, stream).await.map_err(handshake_error)?;
    let session = tls.get_ref().1;
    let refused = verdict.refused();
    let secured = Secured {
        rid: 0,
        authorized: refused.is_none(),
        authorization_error: refused.map(|(code, _)| code),
        protocol: session.protocol_version().map(|v| match v {
            rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3",
            _ => "TLSv1.2",
        }),
        cipher: session.negotiated_cipher_suite().and_then(|s| s.suite().as_str()),
        alpn_protocol: session.alpn_protocol().map(|p| String::from_utf8_lossy(p).into_owned()),
        peer_certificates: session.peer_certificates().unwrap_or_default().iter().map(peer_certificate).collect(),
    };
    let mut state = state.borrow_mut();
    let res = resources(&mut state);
    let rid = res.id();
    res.sockets.insert(rid, Socket::new(Box::new(tls)));
    Ok(Secured { rid, ..secured })
}
