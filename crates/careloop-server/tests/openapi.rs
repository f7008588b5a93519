//! `schema/openapi.json` against the code: the routes of `src/routes.rs`, the error codes of
//! `src/error.rs`, the wire types of `careloop_wire` (fields, `required`, closed
//! or not), and a real server on loopback, whose every answer must be a status the document
//! lists for the operation, with a body that fits the documented schema.

use std::collections::{BTreeMap, BTreeSet};

use careloop_server::error::ServerError;
use careloop_sync::Connection;
use careloop_testkit::{Cluster, PASSWORD};
use careloop_wire::{
    AuditHeadWire, ErrorBody, LoginRequest, PanelItem, PanelKind, PanelPage, PullResponse,
    PulledEvent, PushRequest, PushResponse, PushResult, PushStatus, RefreshRequest,
    SegmentDefinitionWire, SegmentPushRequest, SegmentPushResponse, SegmentPushResult,
    SegmentStatus, Tokens, WireEvent,
};
use chrono::{TimeZone, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

const DOCUMENT: &str = include_str!("../../../schema/openapi.json");
const ROUTES: &str = include_str!("../src/routes.rs");
const ERRORS: &str = include_str!("../src/error.rs");
const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn document() -> Value {
    serde_json::from_str(DOCUMENT).expect("schema/openapi.json is JSON")
}

/// (METHOD, path) of every operation of the document.
fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let paths = doc["paths"]
        .as_object()
        .expect("schema/openapi.json has paths");
    paths
        .iter()
        .flat_map(|(path, item)| {
            let item = item.as_object().expect("a path item is an object");
            item.keys()
                .filter(|k| METHODS.contains(&k.as_str()))
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect()
}

fn operation<'a>(doc: &'a Value, method: &str, path: &str) -> &'a Value {
    &doc["paths"][path][method.to_lowercase()]
}

/// Follows `$ref`s to what they name.
fn resolve<'a>(doc: &'a Value, mut value: &'a Value) -> &'a Value {
    while let Some(r) = value.get("$ref").and_then(Value::as_str) {
        value = doc
            .pointer(r.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("schema/openapi.json: dangling $ref {r}"));
    }
    value
}

fn strings(value: &Value) -> BTreeSet<String> {
    let items = value.as_array().into_iter().flatten();
    items.filter_map(Value::as_str).map(str::to_owned).collect()
}

fn is_secured(doc: &Value, op: &Value) -> bool {
    let security = op.get("security").unwrap_or(&doc["security"]);
    security.as_array().is_some_and(|s| !s.is_empty())
}

fn statuses(op: &Value) -> Vec<u16> {
    let responses = op["responses"].as_object().into_iter().flatten();
    responses
        .map(|(s, _)| s.parse().expect("a response key is a status"))
        .collect()
}

/// The one 2xx status of an operation.
fn success_status(op: &Value) -> u16 {
    let ok: Vec<u16> = statuses(op)
        .into_iter()
        .filter(|s| (200..300).contains(s))
        .collect();
    assert_eq!(ok.len(), 1, "{op}: one success status, not {ok:?}");
    ok[0]
}

/// Names what is in one set but not the other.
fn differ(
    what: &str,
    (left_name, left): (&str, &BTreeSet<String>),
    (right_name, right): (&str, &BTreeSet<String>),
) -> Vec<String> {
    let mut out: Vec<String> = left
        .difference(right)
        .map(|x| format!("{what} {x} is in {left_name} but not in {right_name}"))
        .collect();
    out.extend(
        right
            .difference(left)
            .map(|x| format!("{what} {x} is in {right_name} but not in {left_name}")),
    );
    out
}

fn assert_none(differences: Vec<String>) {
    assert!(differences.is_empty(), "\n{}", differences.join("\n"));
}

/// What in `value` does not fit `schema` (the part of JSON Schema the document uses).
fn validate(doc: &Value, schema: &Value, value: &Value, at: &str) -> Vec<String> {
    let schema = resolve(doc, schema);
    let mut out = Vec::new();
    for part in schema["allOf"].as_array().into_iter().flatten() {
        out.extend(validate(doc, part, value, at));
    }
    if let Some(any) = schema["anyOf"].as_array() {
        if !any.iter().any(|s| validate(doc, s, value, at).is_empty()) {
            out.push(format!("{at}: {value} fits none of anyOf"));
        }
    }
    let kind = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        t => t
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect(),
    };
    if !types.is_empty()
        && !types
            .iter()
            .any(|t| *t == kind || (*t, kind) == ("number", "integer"))
    {
        out.push(format!(
            "{at}: {value} is {kind}, not {}",
            types.join(" or ")
        ));
        return out;
    }
    if let Some(allowed) = schema["enum"].as_array() {
        if !allowed.contains(value) {
            out.push(format!("{at}: {value} is not one of {}", schema["enum"]));
        }
    }
    let bad_format = match (schema["format"].as_str(), value) {
        (Some("uuid"), Value::String(s)) => s.parse::<uuid::Uuid>().is_err(),
        (Some("date-time"), Value::String(s)) => chrono::DateTime::parse_from_rfc3339(s).is_err(),
        (Some("int64"), Value::Number(n)) => n.as_i64().is_none(),
        _ => false,
    };
    if bad_format {
        out.push(format!("{at}: {value} is not a {}", schema["format"]));
    }
    if let Some(n) = value.as_f64() {
        let below = schema["minimum"].as_f64().is_some_and(|m| n < m);
        if below || schema["maximum"].as_f64().is_some_and(|m| n > m) {
            out.push(format!("{at}: {n} is outside the documented range"));
        }
    }
    if let Some(s) = value.as_str() {
        let len = s.chars().count() as u64;
        let short = schema["minLength"].as_u64().is_some_and(|m| len < m);
        if short || schema["maxLength"].as_u64().is_some_and(|m| len > m) {
            out.push(format!(
                "{at}: {value} has a length outside the documented one"
            ));
        }
    }
    if let Some(fields) = value.as_object() {
        for name in strings(&schema["required"]) {
            if !fields.contains_key(&name) {
                out.push(format!("{at}: the required {name} is missing"));
            }
        }
        for (name, field) in fields {
            match schema["properties"].get(name) {
                Some(s) => out.extend(validate(doc, s, field, &format!("{at}.{name}"))),
                None if schema["additionalProperties"] == json!(false) => {
                    out.push(format!("{at}: {name} is not a documented property"))
                }
                None => {}
            }
        }
    }
    if let (Some(items), Some(values)) = (schema.get("items"), value.as_array()) {
        for (i, v) in values.iter().enumerate() {
            out.extend(validate(doc, items, v, &format!("{at}[{i}]")));
        }
    }
    out
}

/// (METHOD, path) of every `.route("PATH", get(..).post(..))` in `src/routes.rs`.
fn routes_in_source() -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    for call in ROUTES.split(".route(").skip(1) {
        let mut depth = 1;
        let end = call
            .find(|c: char| {
                depth += match c {
                    '(' => 1,
                    ')' => -1,
                    _ => 0,
                };
                depth == 0
            })
            .expect("src/routes.rs: a .route( call is closed");
        let args = &call[..end];
        let path = args
            .split('"')
            .nth(1)
            .expect("a .route( call names its path");
        for method in METHODS {
            let used = args
                .match_indices(&format!("{method}("))
                .any(|(i, _)| !args[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_'));
            if used {
                found.insert((method.to_uppercase(), path.to_owned()));
            }
        }
    }
    found
}

#[test]
fn the_document_has_the_routes_and_parameters_of_the_code() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    let code = routes_in_source();
    assert!(!code.is_empty(), "no .route( calls found in src/routes.rs");
    let as_text = |set: &BTreeSet<(String, String)>| -> BTreeSet<String> {
        set.iter().map(|(m, p)| format!("{m} {p}")).collect()
    };
    assert_none(differ(
        "route",
        ("src/routes.rs", &as_text(&code)),
        ("schema/openapi.json", &as_text(&documented(&doc))),
    ));

    let mut problems = Vec::new();
    let roles: BTreeSet<String> = careloop_server::auth::ROLES
        .iter()
        .map(|r| r.to_string())
        .collect();
    for (method, path) in documented(&doc) {
        let op = operation(&doc, &method, &path);
        if op["summary"].as_str().is_none_or(str::is_empty) {
            problems.push(format!("{method} {path} has no summary"));
        }
        success_status(op);
        let allowed = strings(&op["x-roles"]);
        if is_secured(&doc, op) && allowed.is_empty() {
            problems.push(format!(
                "{method} {path} needs a token but lists no x-roles"
            ));
        }
        problems.extend(
            allowed
                .difference(&roles)
                .map(|r| format!("{method} {path}: x-roles names {r}, not a role of auth::ROLES")),
        );
    }
    // Every $ref resolves, and every schema is used.
    let mut refs = Vec::new();
    fn collect<'a>(value: &'a Value, refs: &mut Vec<&'a str>) {
        match value {
            Value::Object(m) => {
                refs.extend(m.get("$ref").and_then(Value::as_str));
                m.values().for_each(|v| collect(v, refs));
            }
            Value::Array(a) => a.iter().for_each(|v| collect(v, refs)),
            _ => {}
        }
    }
    collect(&doc, &mut refs);
    for r in &refs {
        if doc.pointer(r.trim_start_matches('#')).is_none() {
            problems.push(format!("$ref {r} names nothing in schema/openapi.json"));
        }
    }
    for name in doc["components"]["schemas"]
        .as_object()
        .expect("schemas")
        .keys()
    {
        if !refs.contains(&format!("#/components/schemas/{name}").as_str()) {
            problems.push(format!("components.schemas.{name} is referenced nowhere"));
        }
    }
    // The default page sizes are the workstations' (the bounds are checked live).
    for (path, page) in [
        ("/api/v1/events", careloop_wire::PULL_PAGE),
        ("/api/v1/panel", careloop_wire::PANEL_PAGE),
    ] {
        let params = operation(&doc, "GET", path)["parameters"].as_array();
        let limit = params
            .into_iter()
            .flatten()
            .map(|p| resolve(&doc, p))
            .find(|p| p["name"] == "limit");
        let default = limit.map(|p| &p["schema"]["default"]);
        if default != Some(&json!(page)) {
            problems.push(format!(
                "GET {path}: limit's default is {default:?}, the code's is {page}"
            ));
        }
    }
    assert_none(problems);
}

/// Every error of the server. A new variant fails to compile in the match below until it is
/// listed here too.
fn every_error() -> Vec<ServerError> {
    let all = vec![
        ServerError::MalformedJson(String::new()),
        ServerError::InvalidBody(String::new()),
        ServerError::BadRequest(String::new()),
        ServerError::UnsupportedMediaType,
        ServerError::PayloadTooLarge { limit: 1 },
        ServerError::Unauthorized(String::new()),
        ServerError::Forbidden(String::new()),
        ServerError::NotFound(String::new()),
        ServerError::Conflict(String::new()),
        ServerError::Busy { retry_after: 1 },
        ServerError::Throttled { retry_after: 1 },
        ServerError::MethodNotAllowed(String::new()),
        ServerError::Timeout { seconds: 1 },
        ServerError::Internal(String::new()),
    ];
    for e in &all {
        match e {
            ServerError::MalformedJson(_)
            | ServerError::InvalidBody(_)
            | ServerError::BadRequest(_)
            | ServerError::UnsupportedMediaType
            | ServerError::PayloadTooLarge { .. }
            | ServerError::Unauthorized(_)
            | ServerError::Forbidden(_)
            | ServerError::NotFound(_)
            | ServerError::Conflict(_)
            | ServerError::Busy { .. }
            | ServerError::Throttled { .. }
            | ServerError::MethodNotAllowed(_)
            | ServerError::Timeout { .. }
            | ServerError::Internal(_) => {}
        }
    }
    all
}

#[test]
fn the_error_codes_are_those_of_error_rs() {
    let doc = document();
    let status_of: BTreeMap<String, u16> = every_error()
        .iter()
        .map(|e| {
            let (status, code) = e.status_and_code();
            (code.to_owned(), status.as_u16())
        })
        .collect();
    let codes: BTreeSet<String> = status_of.keys().cloned().collect();
    // The string literals of status_and_code: the codes as the source has them.
    let mapping = ERRORS
        .split("fn status_and_code")
        .nth(1)
        .and_then(|rest| rest.split("impl IntoResponse").next())
        .expect("src/error.rs has fn status_and_code");
    let in_source: BTreeSet<String> = mapping
        .split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect();
    assert_none(differ(
        "error code",
        ("src/error.rs", &in_source),
        ("every_error() of this test", &codes),
    ));
    assert_none(differ(
        "error code",
        ("src/error.rs", &codes),
        (
            "components.schemas.Error.code.enum",
            &strings(&doc["components"]["schemas"]["Error"]["properties"]["code"]["enum"]),
        ),
    ));
    // An operation's error response of status S carries only codes error.rs answers with S.
    let mut problems = Vec::new();
    for (method, path) in documented(&doc) {
        let op = operation(&doc, &method, &path);
        for status in statuses(op).into_iter().filter(|s| *s >= 400) {
            let response = resolve(&doc, &op["responses"][status.to_string()]);
            let schema = &response["content"]["application/json"]["schema"];
            let parts = schema["allOf"].as_array().into_iter().flatten();
            let listed: BTreeSet<String> = parts
                .flat_map(|s| strings(&s["properties"]["code"]["enum"]))
                .collect();
            if listed.is_empty() {
                problems.push(format!(
                    "{method} {path} {status}: the response names no error codes"
                ));
            }
            for code in listed {
                if status_of.get(&code) != Some(&status) {
                    problems.push(format!(
                        "{method} {path}: code {code} is documented under {status}, but src/error.rs answers it with {:?}",
                        status_of.get(&code)
                    ));
                }
            }
        }
    }
    assert_none(problems);
}

/// A wire type against its schema: the serialized value fits it; its fields are the
/// documented properties; a property is `required` exactly when the type refuses JSON without
/// it; `additionalProperties: false` exactly when the type refuses an unknown field.
fn check_type<T: Serialize + DeserializeOwned>(doc: &Value, name: &str, value: &T) -> Vec<String> {
    let schema = &doc["components"]["schemas"][name];
    if !schema.is_object() {
        return vec![format!("components.schemas.{name} is missing")];
    }
    let value = serde_json::to_value(value).expect("a wire value serializes");
    let mut out = validate(doc, schema, &value, name);
    let fields = value
        .as_object()
        .expect("a wire struct serializes to an object");
    let properties = schema["properties"].as_object().expect("properties");
    out.extend(differ(
        "property",
        (
            format!("the serialized {name}").as_str(),
            &fields.keys().cloned().collect::<BTreeSet<_>>(),
        ),
        (
            format!("components.schemas.{name}").as_str(),
            &properties.keys().cloned().collect::<BTreeSet<_>>(),
        ),
    ));
    let refuses =
        |v: serde_json::Map<String, Value>| serde_json::from_value::<T>(Value::Object(v)).is_err();
    let required = strings(&schema["required"]);
    for field in fields.keys() {
        let mut without = fields.clone();
        without.remove(field);
        match (refuses(without), required.contains(field)) {
            (true, false) => out.push(format!(
                "{name}.{field}: the Rust type needs it, but components.schemas.{name}.required does not list it"
            )),
            (false, true) => out.push(format!(
                "{name}.{field}: components.schemas.{name}.required lists it, but the Rust type accepts JSON without it"
            )),
            _ => {}
        }
    }
    let mut extra = fields.clone();
    extra.insert("unexpected_field".into(), json!(1));
    match (refuses(extra), schema["additionalProperties"] == json!(false)) {
        (true, false) => out.push(format!(
            "{name}: the Rust type refuses unknown fields, but the schema lacks additionalProperties: false"
        )),
        (false, true) => out.push(format!(
            "{name}: the schema has additionalProperties: false, but the Rust type accepts unknown fields"
        )),
        _ => {}
    }
    if refuses(fields.clone()) {
        out.push(format!(
            "{name}: the serialized value does not deserialize again"
        ));
    }
    out
}

/// An enum's serialized values against the schema's `enum`.
fn check_enum<T: Serialize>(doc: &Value, name: &str, variants: &[T]) -> Vec<String> {
    let serialized: BTreeSet<String> = variants
        .iter()
        .map(|v| {
            serde_json::to_value(v)
                .expect("serializes")
                .as_str()
                .expect("a string")
                .to_owned()
        })
        .collect();
    differ(
        "value",
        (format!("the Rust {name}").as_str(), &serialized),
        (
            format!("components.schemas.{name}.enum").as_str(),
            &strings(&doc["components"]["schemas"][name]["enum"]),
        ),
    )
}

#[test]
fn the_wire_types_are_documented_field_by_field() {
    let doc = document();
    let at = Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap();
    let event = WireEvent {
        id: uuid::Uuid::now_v7(),
        kind: "case.claimed".into(),
        subject: "patient-1".into(),
        actor: "ana".into(),
        occurred_at: at,
        payload: json!({"role": "coordinator"}),
        payload_version: 1,
    };
    let head = AuditHeadWire {
        seq: 3,
        hash: "ab".repeat(32),
    };
    let result = PushResult {
        id: event.id,
        server_seq: 7,
        status: PushStatus::Accepted,
        superseded: Some("already claimed by ben".into()),
    };
    let pulled = PulledEvent {
        server_seq: 7,
        event: event.clone(),
    };
    let item = PanelItem {
        seq: 1,
        kind: PanelKind::Resource,
        json: r#"{"resourceType":"Patient","id":"patient-1"}"#.into(),
    };
    let tokens = Tokens {
        access_token: "a".repeat(64),
        access_expires_at: at,
        refresh_token: "r".repeat(64),
        refresh_expires_at: at,
        user: "ana".into(),
        role: "coordinator".into(),
        team: "north".into(),
    };
    let mut problems = Vec::new();
    problems.extend(check_type(&doc, "WireEvent", &event));
    problems.extend(check_type(&doc, "AuditHeadWire", &head));
    problems.extend(check_type(
        &doc,
        "PushRequest",
        &PushRequest {
            workstation: "ws-1".into(),
            events: vec![event],
            audit_head: Some(head),
        },
    ));
    problems.extend(check_type(&doc, "PushResult", &result));
    problems.extend(check_type(
        &doc,
        "PushResponse",
        &PushResponse {
            results: vec![result],
        },
    ));
    problems.extend(check_type(&doc, "PulledEvent", &pulled));
    problems.extend(check_type(
        &doc,
        "PullResponse",
        &PullResponse {
            events: vec![pulled],
            cursor: 7,
            more: false,
        },
    ));
    problems.extend(check_type(
        &doc,
        "LoginRequest",
        &LoginRequest {
            user: "ana".into(),
            password: PASSWORD.into(),
            workstation: "ws-1".into(),
        },
    ));
    problems.extend(check_type(
        &doc,
        "RefreshRequest",
        &RefreshRequest {
            refresh_token: "r".repeat(64),
        },
    ));
    problems.extend(check_type(&doc, "Tokens", &tokens));
    problems.extend(check_type(&doc, "PanelItem", &item));
    problems.extend(check_type(
        &doc,
        "PanelPage",
        &PanelPage {
            items: vec![item],
            cursor: 1,
            more: true,
            team: "north".into(),
        },
    ));
    let service = careloop_wire::ServiceWire {
        id: "harbor-home".into(),
        name: "Home care".into(),
        service_type: "home_care".into(),
        area: "North".into(),
        languages: vec!["en".into()],
        eligibility: "adults".into(),
        contact_role: "intake coordinator".into(),
        respond_within_working_days: 2,
        start_within_working_days: 5,
    };
    problems.extend(check_type(&doc, "ServiceWire", &service));
    let partner = careloop_wire::PartnerWire {
        id: "harbor".into(),
        name: "Harbor".into(),
        services: vec![service],
    };
    problems.extend(check_type(&doc, "PartnerWire", &partner));
    problems.extend(check_type(
        &doc,
        "Directory",
        &careloop_wire::Directory {
            partners: vec![partner],
        },
    ));
    problems.extend(check_type(
        &doc,
        "Error",
        &ErrorBody {
            code: "forbidden".into(),
            message: "an admin may not read people's records".into(),
        },
    ));
    // A new variant fails to compile here until it is listed (and documented).
    let _ = |s: PushStatus| match s {
        PushStatus::Accepted | PushStatus::Duplicate => {}
    };
    let _ = |k: PanelKind| match k {
        PanelKind::Resource | PanelKind::Engagement | PanelKind::Segment => {}
    };
    let _ = |s: SegmentStatus| match s {
        SegmentStatus::Published | SegmentStatus::Duplicate | SegmentStatus::Superseded => {}
    };
    problems.extend(check_enum(
        &doc,
        "SegmentStatus",
        &[
            SegmentStatus::Published,
            SegmentStatus::Duplicate,
            SegmentStatus::Superseded,
        ],
    ));
    let definition = SegmentDefinitionWire {
        id: "flu-reminder".into(),
        version: 2,
        body: "{}".into(),
        published_by: "sue".into(),
        published_at: "2026-11-02T09:00:00Z".into(),
    };
    let segment_result = SegmentPushResult {
        id: "flu-reminder".into(),
        version: 2,
        status: SegmentStatus::Superseded,
        why: Some("sam published version 2 first".into()),
    };
    problems.extend(check_type(&doc, "SegmentDefinitionWire", &definition));
    problems.extend(check_type(
        &doc,
        "SegmentPushRequest",
        &SegmentPushRequest {
            definitions: vec![definition],
        },
    ));
    problems.extend(check_type(&doc, "SegmentPushResult", &segment_result));
    problems.extend(check_type(
        &doc,
        "SegmentPushResponse",
        &SegmentPushResponse {
            results: vec![segment_result],
        },
    ));
    problems.extend(check_enum(
        &doc,
        "PushStatus",
        &[PushStatus::Accepted, PushStatus::Duplicate],
    ));
    problems.extend(check_enum(
        &doc,
        "PanelKind",
        &[
            PanelKind::Resource,
            PanelKind::Engagement,
            PanelKind::Segment,
        ],
    ));
    problems.extend(check_enum(&doc, "Role", careloop_server::auth::ROLES));
    // The kinds a push may carry: the operations' and the conflict resolution.
    let mut kinds: BTreeSet<String> = careloop_ops::events::KINDS
        .iter()
        .map(|k| k.to_string())
        .collect();
    kinds.insert(careloop_ops::sync::RESOLUTION_KIND.to_owned());
    problems.extend(differ(
        "event kind",
        ("careloop_ops (KINDS, RESOLUTION_KIND)", &kinds),
        (
            "components.schemas.WireEvent.kind.enum",
            &strings(&doc["components"]["schemas"]["WireEvent"]["properties"]["kind"]["enum"]),
        ),
    ));
    assert_none(problems);
}

const USERS: &[(&str, &str)] = &[
    ("ana", "coordinator"),
    ("cleo", "clinician"),
    ("sue", "supervisor"),
    ("root", "admin"),
];

/// A client of a live server that checks every answer against the document.
struct Live {
    doc: Value,
    conn: Connection,
    /// "METHOD path" of the operations that answered a 2xx.
    succeeded: BTreeSet<String>,
}

impl Live {
    /// Sends a request to the documented `method path` (plus `query`); asserts that the
    /// status is one the document lists for the operation and the body fits that response.
    fn send(
        &mut self,
        method: &str,
        path: &str,
        query: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> (u16, String) {
        let target = format!("{method} {path}{query}");
        let (status, text) = self
            .conn
            .raw(method, &format!("{path}{query}"), token, content_type, body)
            .unwrap_or_else(|e| panic!("{target}: {e:?}"));
        let doc = &self.doc;
        let response = operation(doc, method, path)["responses"]
            .get(status.to_string())
            .unwrap_or_else(|| {
                panic!("{target} answered {status}, a status schema/openapi.json does not list for it: {text}")
            });
        match resolve(doc, response)["content"]["application/json"].get("schema") {
            Some(schema) => {
                let value: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
                    panic!("{target} {status}: the body is not JSON ({e}): {text}")
                });
                let errors = validate(doc, schema, &value, "body");
                assert!(
                    errors.is_empty(),
                    "{target} {status}: the body does not fit schema/openapi.json:\n{}\n{text}",
                    errors.join("\n")
                );
            }
            None => assert!(
                text.is_empty(),
                "{target} {status}: documented without a body, but the server sent {text}"
            ),
        }
        if status < 300 {
            self.succeeded.insert(format!("{method} {path}"));
        }
        (status, text)
    }

    fn json(
        &mut self,
        method: &str,
        path: &str,
        query: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (u16, String) {
        match body {
            Some(b) => self.send(
                method,
                path,
                query,
                token,
                Some("application/json"),
                b.to_string().into_bytes(),
            ),
            None => self.send(method, path, query, token, None, Vec::new()),
        }
    }
}

/// A request each signed-in operation accepts: its query and body.
fn valid_request(method: &str, path: &str) -> (&'static str, Option<Value>) {
    match (method, path) {
        ("POST", "/api/v1/events") => (
            "",
            Some(json!({"workstation": "ws-openapi", "events": [], "audit_head": null})),
        ),
        ("POST", "/api/v1/segments") => ("", Some(json!({"definitions": []}))),
        ("GET", "/api/v1/events" | "/api/v1/panel") => ("?after=0&limit=10", None),
        ("GET", _) => ("", None),
        _ => panic!("{method} {path}: this test has no valid request for it yet; add one"),
    }
}

#[test]
fn a_live_server_answers_as_documented() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = Cluster::start_with(dir.path(), 20, |config| config.max_body_bytes = 64 * 1024);
    cluster.add_team("north", USERS);
    let doc = document();
    let operations = documented(&doc);
    let mut live = Live {
        doc: document(),
        conn: Connection::new(&cluster.url, Some(&cluster.pin)).unwrap(),
        succeeded: BTreeSet::new(),
    };
    let big = json!({"pad": "x".repeat(70_000)}).to_string().into_bytes();
    let json_type = Some("application/json");

    // Without a (valid) token: 401 exactly where the document asks for a bearer token.
    for (method, path) in &operations {
        let op = operation(&doc, method, path);
        let secured = is_secured(&doc, op);
        let mut probes = vec![
            (None, None, Vec::new()),
            (Some("not-a-token"), None, Vec::new()),
        ];
        if op.get("requestBody").is_some() {
            probes.push((None, json_type, b"{}".to_vec()));
            probes.push((None, json_type, b"{".to_vec()));
            if !secured {
                probes.push((None, json_type, big.clone()));
            }
        }
        for (token, content_type, body) in probes {
            let (status, text) = live.send(method, path, "", token, content_type, body);
            assert_eq!(
                status == 401,
                secured,
                "{method} {path} answered {status} without a valid token, but is documented {}: {text}",
                if secured { "with bearer security" } else { "without security" }
            );
        }
    }
    // A method the document does not list for a path: 405; a path it does not list: 404.
    let paths: BTreeSet<&String> = operations.iter().map(|(_, p)| p).collect();
    for path in paths {
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
            if !operations.contains(&(method.to_owned(), path.clone())) {
                let (status, text) = live.conn.raw(method, path, None, None, Vec::new()).unwrap();
                assert_eq!(
                    status, 405,
                    "{method} {path} is not in schema/openapi.json, but answered {status}: {text}"
                );
            }
        }
    }
    let (status, text) = live
        .conn
        .raw("GET", "/api/v1/no-such-endpoint", None, None, Vec::new())
        .unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        (status, &body["code"]),
        (404, &json!("not_found")),
        "{text}"
    );
    assert_none(validate(
        &doc,
        &doc["components"]["schemas"]["Error"],
        &body,
        "404 body",
    ));

    // Sign-in, and a wrong password.
    let mut tokens: BTreeMap<&str, Tokens> = BTreeMap::new();
    for &(user, role) in USERS {
        let login = json!({"user": user, "password": PASSWORD, "workstation": "ws-openapi"});
        let (status, text) = live.json("POST", "/api/v1/auth/login", "", None, Some(&login));
        assert_eq!(status, 200, "{user} signs in: {text}");
        tokens.insert(role, serde_json::from_str(&text).unwrap());
    }
    let wrong = json!({"user": "ana", "password": "wrong password", "workstation": "ws"});
    assert_eq!(
        live.json("POST", "/api/v1/auth/login", "", None, Some(&wrong))
            .0,
        401
    );

    // Audit heads: one that goes backwards leaves a regression note; a malformed one is 400;
    // a body over the limit is 413.
    let sue = tokens["supervisor"].access_token.clone();
    for (seq, digit, expected) in [(2, "a", 200), (1, "b", 200), (0, "c", 400)] {
        let push = json!({"workstation": "ws-openapi", "events": [], "audit_head": {"seq": seq, "hash": digit.repeat(64)}});
        let (status, text) = live.json("POST", "/api/v1/events", "", Some(&sue), Some(&push));
        assert_eq!(status, expected, "an audit head {seq}: {text}");
    }
    let (status, text) = live.send("POST", "/api/v1/events", "", Some(&sue), json_type, big);
    assert_eq!(status, 413, "{text}");

    // Every role on every signed-in operation: the documented success for x-roles, else 403.
    for (method, path) in &operations {
        let op = operation(&doc, method, path);
        if !is_secured(&doc, op) {
            continue;
        }
        let allowed = strings(&op["x-roles"]);
        let (query, body) = valid_request(method, path);
        for (role, t) in &tokens {
            let (status, text) =
                live.json(method, path, query, Some(&t.access_token), body.as_ref());
            let expected = if allowed.contains(*role) {
                success_status(op)
            } else {
                403
            };
            assert_eq!(
                status, expected,
                "{method} {path}{query} as a {role} (x-roles {allowed:?}): {text}"
            );
        }
    }

    // Query parameters: their documented bounds are the code's; unknown ones are refused.
    for (method, path) in &operations {
        let op = operation(&doc, method, path);
        let params: Vec<&Value> = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| resolve(&doc, p))
            .collect();
        for param in &params {
            let name = param["name"].as_str().expect("a parameter has a name");
            let schema = &param["schema"];
            let mut tries = Vec::new();
            if let Some(min) = schema["minimum"].as_i64() {
                tries.extend([(min - 1, 400), (min, success_status(op))]);
            }
            if let Some(max) = schema["maximum"].as_i64() {
                tries.extend([(max + 1, 400), (max, success_status(op))]);
            }
            for (v, expected) in tries {
                let (status, text) =
                    live.json(method, path, &format!("?{name}={v}"), Some(&sue), None);
                assert_eq!(
                    status, expected,
                    "{method} {path}?{name}={v}: schema/openapi.json documents {name} from {} to {}: {text}",
                    schema["minimum"], schema["maximum"]
                );
            }
        }
        if !params.is_empty() {
            assert_eq!(
                live.json(method, path, "?bogus=1", Some(&sue), None).0,
                400,
                "{method} {path}?bogus=1"
            );
        }
    }

    // The rest of the public operations: health, refresh (rotation), logout.
    assert_eq!(live.json("GET", "/api/v1/health", "", None, None).0, 200);
    let spent = json!({"refresh_token": tokens["supervisor"].refresh_token});
    let (status, text) = live.json("POST", "/api/v1/auth/refresh", "", None, Some(&spent));
    assert_eq!(status, 200, "{text}");
    let fresh: Tokens = serde_json::from_str(&text).unwrap();
    // Once the new pair is used, the spent token is refused (and revokes that sign-in).
    assert_eq!(
        live.json("GET", "/api/v1/me", "", Some(&fresh.access_token), None)
            .0,
        200
    );
    assert_eq!(
        live.json("POST", "/api/v1/auth/refresh", "", None, Some(&spent))
            .0,
        401,
        "a spent refresh token"
    );
    let logout = json!({"refresh_token": fresh.refresh_token});
    assert_eq!(
        live.json("POST", "/api/v1/auth/logout", "", None, Some(&logout))
            .0,
        204
    );

    let all: BTreeSet<String> = operations.iter().map(|(m, p)| format!("{m} {p}")).collect();
    assert_none(differ(
        "operation",
        ("schema/openapi.json", &all),
        ("the successful calls of this test", &live.succeeded),
    ));
    drop(cluster);
}
