//! `crypto` ops: digests and HMAC (RustCrypto), PBKDF2 on HMAC, random bytes and UUIDs. Each
//! call gets all its input at once; JS collects `update()` chunks first.

use deno_core::op2;
use deno_error::JsErrorBox;
use hmac::{Hmac, Mac};
use sha2::Digest;

fn digest(algorithm: &str, data: &[u8]) -> Result<Vec<u8>, JsErrorBox> {
    Ok(match algorithm {
        "md5" => md5::Md5::digest(data).to_vec(),
        "sha1" => sha1::Sha1::digest(data).to_vec(),
        "sha224" => sha2::Sha224::digest(data).to_vec(),
        "sha256" => sha2::Sha256::digest(data).to_vec(),
        "sha384" => sha2::Sha384::digest(data).to_vec(),
        "sha512" => sha2::Sha512::digest(data).to_vec(),
        other => return Err(JsErrorBox::generic(format!("Digest method not supported: {other}"))),
    })
}

fn mac<M: Mac + hmac::digest::KeyInit>(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut m = <M as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

fn hmac(algorithm: &str, key: &[u8], data: &[u8]) -> Result<Vec<u8>, JsErrorBox> {
    Ok(match algorithm {
        "md5" => mac::<Hmac<md5::Md5>>(key, data),
        "sha1" => mac::<Hmac<sha1::Sha1>>(key, data),
        "sha224" => mac::<Hmac<sha2::Sha224>>(key, data),
        "sha256" => mac::<Hmac<sha2::Sha256>>(key, data),
        "sha384" => mac::<Hmac<sha2::Sha384>>(key, data),
        "sha512" => mac::<Hmac<sha2::Sha512>>(key, data),
        other => return Err(JsErrorBox::generic(format!("Invalid digest: {other}"))),
    })
}

#[op2]
#[buffer]
pub fn op_node_hash(#[string] algorithm: &str, #[buffer] data: &[u8]) -> Result<Vec<u8>, JsErrorBox> {
    digest(algorithm, data)
}

#[op2]
#[buffer]
pub fn op_node_hmac(#[string] algorithm: &str, #[buffer] key: &[u8], #[buffer] data: &[u8]) -> Result<Vec<u8>, JsErrorBox> {
    hmac(algorithm, key, data)
}

/// PBKDF2 (RFC 8018) over the HMAC above. Runs on the isolate's thread, so a huge iteration
/// count is bounded by HOOKS_TIMEOUT's watchdog like any synchronous JS.
#[op2]
#[buffer]
pub fn op_node_pbkdf2(#[string] algorithm: &str, #[buffer] password: &[u8], #[buffer] salt: &[u8], iterations: u32, keylen: u32) -> Result<Vec<u8>, JsErrorBox> {
    pbkdf2(algorithm, password, salt, iterations, keylen)
}

fn pbkdf2(algorithm: &str, password: &[u8], salt: &[u8], iterations: u32, keylen: u32) -> Result<Vec<u8>, JsErrorBox> {
    if iterations == 0 {
        return Err(JsErrorBox::range_error("The value of \"iterations\" is out of range. It must be >= 1"));
    }
    if keylen > 64 << 20 {
        return Err(JsErrorBox::range_error("The value of \"keylen\" is out of range. It must be <= 67108864"));
    }
    let mut out = Vec::with_capacity(keylen as usize);
    let mut block = 1u32;
    while out.len() < keylen as usize {
        let mut u = hmac(algorithm, password, &[salt, &block.to_be_bytes()].concat())?;
        let mut t = u.clone();
        for _ in 1..iterations {
            u = hmac(algorithm, password, &u)?;
            t.iter_mut().zip(&u).for_each(|(a, b)| *a ^= b);
        }
        out.extend_from_slice(&t);
        block += 1;
    }
    out.truncate(keylen as usize);
    Ok(out)
}

/// At most 64 MiB at once: more would be a runaway allocation outside the JS heap limit.
#[op2]
#[buffer]
pub fn op_node_random_bytes(#[number] len: usize) -> Result<Vec<u8>, JsErrorBox> {
    use rand::RngCore;
    if len > 64 << 20 {
        return Err(JsErrorBox::range_error(format!("The value of \"size\" is out of range. It must be <= 67108864. Received {len}")));
    }
    let mut buf = vec![0u8; len];
    rand::thread_rng().fill_bytes(&mut buf);
    Ok(buf)
}

#[op2]
#[string]
pub fn op_node_random_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[op2(fast)]
pub fn op_node_timing_safe_equal(#[buffer] a: &[u8], #[buffer] b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn digests_match_known_vectors() {
        assert_eq!(hex(&digest("md5", b"abc").unwrap()), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(hex(&digest("sha1", b"abc").unwrap()), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(hex(&digest("sha256", b"abc").unwrap()), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert!(digest("whirlpool", b"").is_err());
    }

    #[test]
    fn hmac_and_pbkdf2_match_rfc_vectors() {
        // RFC 4231 test case 2.
        assert_eq!(
            hex(&hmac("sha256", b"Jefe", b"what do ya want for nothing?").unwrap()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // RFC 6070: P = "password", S = "salt", c = 2, dkLen = 20.
        let derived = pbkdf2("sha1", b"password", b"salt", 2, 20).unwrap();
        assert_eq!(hex(&derived), "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957");
    }
}
