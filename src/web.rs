//! web: the status page and its actions (to be written for the web
//! interface issue); for now only the health check the reference serves.

use crate::http::{Request, Response, WebOutcome};
use crate::supervisord::Supervisor;

/// Answers a non-RPC, non-logtail request, or None for 404.
pub fn handle(_sup: &mut Supervisor, req: &Request) -> Option<WebOutcome> {
    match req.path() {
        "/ok.html" => Some(WebOutcome::Done(Response::new(
            200,
            "text/plain",
            b"OK".to_vec(),
        ))),
        _ => None,
    }
}
