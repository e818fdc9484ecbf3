//! The fake API server's one Lease, for leader-election tests.

use http::{Method, Response, StatusCode};
use serde_json::{Value, json};

use super::{FakeApi, ResponseBody, json_response, not_found};

impl FakeApi {
    /// The one Lease: get, create, and patches of `spec` (a merge where null
    /// removes). As with server-side apply's field ownership, an apply that
    /// would take `holderIdentity` from another holder is a 409 conflict.
    pub(super) fn lease(
        &self,
        method: &Method,
        path: &str,
        apply: bool,
        body: Value,
    ) -> Response<ResponseBody> {
        let mut state = self.lock();
        let named = path.rsplit('/').next() != Some("leases");
        match (method, named) {
            (&Method::GET, true) if !state.lease.is_null() => json_response(StatusCode::OK, &state.lease),
            (&Method::POST, false) => {
                state.lease = body;
                state.lease["metadata"]["resourceVersion"] = json!("1");
                json_response(StatusCode::CREATED, &state.lease)
            }
            (&Method::PATCH, true) if !state.lease.is_null() => {
                let holder = &state.lease["spec"]["holderIdentity"];
                let wanted = &body["spec"]["holderIdentity"];
                if apply && !holder.is_null() && !wanted.is_null() && holder != wanted {
                    let status = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                        "reason": "Conflict", "code": 409, "message": "holderIdentity is owned"});
                    return json_response(StatusCode::CONFLICT, &status);
                }
                let mut spec = state.lease["spec"].as_object().cloned().unwrap_or_default();
                for (key, value) in body["spec"].as_object().cloned().unwrap_or_default() {
                    if value.is_null() {
                        spec.remove(&key);
                    } else {
                        spec.insert(key, value);
                    }
                }
                state.lease["spec"] = Value::Object(spec);
                json_response(StatusCode::OK, &state.lease)
            }
            _ => not_found(path),
        }
    }

    /// Replaces the Lease, e.g. with one another replica holds.
    pub fn set_lease(&self, lease: Value) {
        self.lock().lease = lease;
    }

    /// Who holds the Lease.
    pub fn lease_holder(&self) -> Option<String> {
        self.lock().lease["spec"]["holderIdentity"]
            .as_str()
            .map(ToOwned::to_owned)
    }
}
