//! The domain error: a Directus exception (status, code, message, extensions) or an internal
//! failure whose message only admins may see. The HTTP layer turns it into the envelope; the
//! hook runtime hands it to JavaScript and back as JSON (`{status, code, message, extensions,
//! internal}`, the shape `js-runtime/20_exceptions.js` produces), so it derives serde both ways.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::db::{Classified, DbError, DbErrorKind};

/// Declares [`ErrorCode`]: each known code with its wire name and HTTP status.
macro_rules! error_codes {
    ($($(#[$doc:meta])* $variant:ident = $code:literal, $status:literal;)*) => {
        /// The code of a Directus exception (`extensions.code`). Known codes carry their HTTP
        /// status; [`ErrorCode::Custom`] holds a code only a hook knows (`new BaseException(m,
        /// 418, 'TEAPOT')`), whose status travels in [`ApiError::status`].
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($(#[$doc])* $variant,)*
            Custom(String),
        }

        impl ErrorCode {
            /// Every known code (not `Custom`).
            pub const KNOWN: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];

            pub fn as_str(&self) -> &str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                    ErrorCode::Custom(code) => code,
                }
            }

            /// The HTTP status Directus answers this code with; 500 for a custom code.
            pub fn status(&self) -> u16 {
                match self {
                    $(ErrorCode::$variant => $status,)*
                    ErrorCode::Custom(_) => 500,
                }
            }

            pub fn parse(code: &str) -> ErrorCode {
                match code {
                    $($code => ErrorCode::$variant,)*
                    other => ErrorCode::Custom(other.to_string()),
                }
            }
        }
    };
}

error_codes! {
    // The exceptions rc.83 exports to hooks (spec §3.1).
    FailedValidation = "FAILED_VALIDATION", 400;
    Forbidden = "FORBIDDEN", 403;
    GraphqlValidation = "GRAPHQL_VALIDATION_EXCEPTION", 400;
    RequestsExceeded = "REQUESTS_EXCEEDED", 429;
    IllegalAssetTransformation = "ILLEGAL_ASSET_TRANSFORMATION", 400;
    InvalidCredentials = "INVALID_CREDENTIALS", 401;
    InvalidIp = "INVALID_IP", 401;
    InvalidOtp = "INVALID_OTP", 401;
    InvalidPayload = "INVALID_PAYLOAD", 400;
    InvalidQuery = "INVALID_QUERY", 400;
    MethodNotAllowed = "METHOD_NOT_ALLOWED", 405;
    RangeNotSatisfiable = "RANGE_NOT_SATISFIABLE", 416;
    RouteNotFound = "ROUTE_NOT_FOUND", 404;
    ServiceUnavailable = "SERVICE_UNAVAILABLE", 503;
    UnprocessableEntity = "UNPROCESSABLE_ENTITY", 422;
    UserSuspended = "USER_SUSPENDED", 401;
    // Database exceptions: thrown by the services, not exported to hooks (spec §3.2).
    RecordNotUnique = "RECORD_NOT_UNIQUE", 400;
    NotNullViolation = "NOT_NULL_VIOLATION", 400;
    InvalidForeignKey = "INVALID_FOREIGN_KEY", 400;
    ValueTooLong = "VALUE_TOO_LONG", 400;
    ValueOutOfRange = "VALUE_OUT_OF_RANGE", 400;
    ContainsNullValues = "CONTAINS_NULL_VALUES", 400;
    /// An import of a file type that has no importer.
    UnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE", 415;
    /// Not a Directus exception: a failure the caller can't fix.
    InternalServerError = "INTERNAL_SERVER_ERROR", 500;
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(ErrorCode::parse(&String::deserialize(deserializer)?))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiError {
    pub status: u16,
    pub code: ErrorCode,
    pub message: String,
    #[serde(default)]
    pub extensions: Map<String, Value>,
    /// Not a Directus exception: shown as "An unexpected error occurred." to non-admins.
    #[serde(default)]
    pub internal: bool,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.status, self.message)
    }
}

impl std::error::Error for ApiError {}

impl ApiError {
    /// An exception with its code's status.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError { status: code.status(), code, message: message.into(), extensions: Map::new(), internal: false }
    }

    pub fn with_extensions(mut self, extensions: Map<String, Value>) -> Self {
        self.extensions = extensions;
        self
    }

    pub fn forbidden() -> Self {
        Self::new(ErrorCode::Forbidden, "You don't have permission to access this.")
    }

    pub fn route_not_found(path: &str) -> Self {
        Self::new(ErrorCode::RouteNotFound, format!("Route {path} doesn't exist."))
    }

    pub fn invalid_payload(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidPayload, message)
    }

    pub fn invalid_query(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidQuery, message)
    }

    pub fn service_unavailable(message: impl Into<String>, service: &str) -> Self {
        let mut ext = Map::new();
        ext.insert("service".into(), Value::String(service.into()));
        Self::new(ErrorCode::ServiceUnavailable, message).with_extensions(ext)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        ApiError { internal: true, ..Self::new(ErrorCode::InternalServerError, message) }
    }

    /// A failed insert, update or delete on `collection` as Directus reports it (spec §3.2):
    /// constraint violations and values the column can't take are the caller's fault (400),
    /// anything else is internal.
    ///
    /// The exceptions carry `{collection, field}`: the table the database names, else the one
    /// written, and the column where the engine tells it, else `null` — as in Directus, which
    /// reads them from the same engine messages. So PostgreSQL's too-long and out-of-range
    /// values name no field (its errors don't), and neither does SQLite's foreign key failure.
    /// A duplicate and a PostgreSQL foreign key also carry the refused value as `invalid`
    /// (rc.83 also adds one to PostgreSQL's out-of-range error and MySQL's foreign key error,
    /// cut from the SQL text: a column name or the whole values list; not reproduced).
    /// Unlike Directus, the extensions are there even when the field is unknown (Directus then
    /// answers SQLite's foreign key failure with none), so a client finds the collection on
    /// every engine.
    pub fn from_write(e: DbError, collection: &str) -> Self {
        let Classified { kind, table, column, invalid } = e.classify();
        let (code, message) = match (kind, &column) {
            (DbErrorKind::Unique, Some(f)) => (ErrorCode::RecordNotUnique, format!("Field \"{f}\" has to be unique.")),
            (DbErrorKind::Unique, None) => (ErrorCode::RecordNotUnique, "Field has to be unique.".into()),
            (DbErrorKind::NotNull, Some(f)) => (ErrorCode::NotNullViolation, format!("Value for field \"{f}\" can't be null.")),
            (DbErrorKind::NotNull, None) => (ErrorCode::NotNullViolation, "Value can't be null.".into()),
            (DbErrorKind::ForeignKey, Some(f)) => (ErrorCode::InvalidForeignKey, format!("Invalid foreign key in field \"{f}\".")),
            (DbErrorKind::ForeignKey, None) => (ErrorCode::InvalidForeignKey, "Invalid foreign key.".into()),
            (DbErrorKind::TooLong, Some(f)) => (ErrorCode::ValueTooLong, format!("Value for field \"{f}\" is too long.")),
            (DbErrorKind::TooLong, None) => (ErrorCode::ValueTooLong, "Value is too long.".into()),
            (DbErrorKind::OutOfRange, Some(f)) => (ErrorCode::ValueOutOfRange, format!("Numeric value in field \"{f}\" is out of range.")),
            (DbErrorKind::OutOfRange, None) => (ErrorCode::ValueOutOfRange, "Numeric value is out of range.".into()),
            (DbErrorKind::InvalidValue, _) => return Self::invalid_payload(e.message()),
            (DbErrorKind::Other, _) => return Self::internal(e.message()),
        };
        let mut extensions = Map::new();
        extensions.insert("collection".into(), Value::String(table.unwrap_or_else(|| collection.to_string())));
        extensions.insert("field".into(), column.map_or(Value::Null, Value::String));
        if let Some(invalid) = invalid {
            extensions.insert("invalid".into(), Value::String(invalid));
        }
        Self::new(code, message).with_extensions(extensions)
    }
}

impl From<DbError> for ApiError {
    /// Any other statement (a read): a value the column can't take or hold (`/items/articles/abc`
    /// on PostgreSQL's integer key, a filter value past its column's range) is the query's fault,
    /// 400 `INVALID_QUERY` with the driver's words (rc.83 answered 500); the rest is internal.
    fn from(e: DbError) -> Self {
        match e.classify().kind {
            DbErrorKind::InvalidValue | DbErrorKind::OutOfRange => ApiError::invalid_query(e.message()),
            _ => ApiError::internal(e.message()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn codes_round_trip_and_carry_their_status() {
        for code in ErrorCode::KNOWN {
            assert_eq!(&ErrorCode::parse(code.as_str()), code);
        }
        assert_eq!(ErrorCode::parse("FORBIDDEN").status(), 403);
        assert_eq!(ErrorCode::parse("TEAPOT"), ErrorCode::Custom("TEAPOT".into()));
        assert_eq!(ApiError::new(ErrorCode::UnprocessableEntity, "x").status, 422);
    }

    #[test]
    fn serialises_as_the_hooks_see_it_and_back() {
        let error = ApiError::invalid_payload("bad").with_extensions([("field".to_string(), json!("title"))].into_iter().collect());
        let wire = serde_json::to_value(&error).unwrap();
        assert_eq!(wire, json!({ "status": 400, "code": "INVALID_PAYLOAD", "message": "bad", "extensions": { "field": "title" }, "internal": false }));
        assert_eq!(serde_json::from_value::<ApiError>(wire).unwrap(), error);
        // What a hook threw: a custom code keeps the status it was thrown with.
        let thrown: ApiError = serde_json::from_value(json!({ "status": 418, "code": "TEAPOT", "message": "short and stout" })).unwrap();
        assert_eq!((thrown.status, thrown.code.as_str(), thrown.internal), (418, "TEAPOT", false));
    }
}
