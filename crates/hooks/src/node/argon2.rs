//! The Rust half of the built-in `argon2` (`js-runtime/node/lib/argon2.js`): the raw Argon2
//! hash on the `argon2` crate, what node-argon2's native binding computes. Encoding (PHC
//! strings), defaults, limits and salts are the JS side's, as in the npm package, so the hashes
//! are the same bytes node-argon2 makes for the same inputs and each verifies the other's.
//! The work runs on the blocking pool, as node-argon2's runs on libuv's thread pool.

use argon2::{Algorithm, Argon2, AssociatedData, ParamsBuilder, Version};
use deno_core::{op2, JsBuffer, ToJsBuffer};
use deno_error::JsErrorBox;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HashOptions {
    /// 0 argon2d, 1 argon2i, 2 argon2id.
    #[serde(rename = "type")]
    kind: u8,
    version: u32,
    memory_cost: u32,
    time_cost: u32,
    parallelism: u32,
    hash_length: usize,
}

/// The argon2 reference library's wording of an error, which node-argon2 rejects with.
fn reference_message(e: argon2::Error) -> &'static str {
    use argon2::Error::*;
    match e {
        AdTooLong => "Associated data is too long",
        AlgorithmInvalid => "Invalid type",
        B64Encoding(_) => "Invalid encoding",
        KeyIdTooLong => "Key id is too long",
        MemoryTooLittle => "Memory cost is too small",
        MemoryTooMuch => "Memory cost is too large",
        OutputTooShort => "Output is too short",
        OutputTooLong => "Output is too long",
        PwdTooLong => "Password is too long",
        SaltTooShort => "Salt is too short",
        SaltTooLong => "Salt is too long",
        SecretTooLong => "Secret is too long",
        ThreadsTooFew => "Not enough threads",
        ThreadsTooMany => "Too many threads",
        TimeTooSmall => "Time cost is too small",
        VersionInvalid => "Invalid version",
    }
}

fn hash(plain: &[u8], salt: &[u8], secret: &[u8], data: &[u8], o: &HashOptions) -> Result<Vec<u8>, argon2::Error> {
    let algorithm = match o.kind {
        0 => Algorithm::Argon2d,
        1 => Algorithm::Argon2i,
        2 => Algorithm::Argon2id,
        _ => return Err(argon2::Error::AlgorithmInvalid),
    };
    let version = Version::try_from(o.version)?;
    let mut params = ParamsBuilder::new();
    params.m_cost(o.memory_cost).t_cost(o.time_cost).p_cost(o.parallelism).output_len(o.hash_length);
    if !data.is_empty() {
        params.data(AssociatedData::new(data).map_err(|_| argon2::Error::AdTooLong)?);
    }
    let params = params.build()?;
    let hasher = if secret.is_empty() { Argon2::new(algorithm, version, params) } else { Argon2::new_with_secret(secret, algorithm, version, params)? };
    let mut out = vec![0; o.hash_length];
    hasher.hash_password_into(plain, salt, &mut out)?;
    Ok(out)
}

/// The raw hash of `plain` (node-argon2's binding `hash(plain, salt, options)`); an empty
/// `secret` or `data` means none.
#[op2]
#[serde]
pub async fn op_argon2_hash(
    #[buffer] plain: JsBuffer,
    #[buffer] salt: JsBuffer,
    #[buffer] secret: JsBuffer,
    #[buffer] data: JsBuffer,
    #[serde] options: HashOptions,
) -> Result<ToJsBuffer, JsErrorBox> {
    let (plain, salt, secret, data) = (plain.to_vec(), salt.to_vec(), secret.to_vec(), data.to_vec());
    let work = tokio::task::spawn_blocking(move || hash(&plain, &salt, &secret, &data, &options));
    match work.await {
        Ok(Ok(out)) => Ok(out.into()),
        Ok(Err(e)) => Err(JsErrorBox::generic(reference_message(e))),
        Err(e) => Err(JsErrorBox::generic(format!("argon2: the hashing failed: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Raw hashes node-argon2 0.28.7 made under Node (`fixtures/native-modules/reference.json`).
    #[test]
    fn same_bytes_as_node_argon2() {
        let reference: serde_json::Value = serde_json::from_str(include_str!("../../../../fixtures/native-modules/reference.json")).unwrap();
        let raw = &reference["argon2"]["raw"];
        let options = HashOptions { kind: 2, version: 0x13, memory_cost: 4096, time_cost: 3, parallelism: 1, hash_length: 32 };
        let out = hash(raw["plain"].as_str().unwrap().as_bytes(), raw["salt"].as_str().unwrap().as_bytes(), b"", b"", &options).unwrap();
        let hex: String = out.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, raw["hex"].as_str().unwrap());
        assert_eq!(reference_message(hash(b"pw", b"short", b"", b"", &options).unwrap_err()), "Salt is too short");
    }
}
