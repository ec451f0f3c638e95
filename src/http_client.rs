//! http_client (to be written).
