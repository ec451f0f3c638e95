//! Supervisor, the UNIX process control system, reimplemented in Rust.
//!
//! One library crate shared by the four tools under `src/bin/`. Modules are
//! named after their Python Supervisor counterparts so that anyone who knows
//! Supervisor finds their way.

pub mod confecho;
pub mod datatypes;
pub mod dispatchers;
pub mod events;
pub mod http;
pub mod http_client;
pub mod loggers;
pub mod options;
pub mod pidproxy;
pub mod process;
pub mod rpcinterface;
pub mod slab;
pub mod socket_manager;
pub mod states;
pub mod supervisorctl;
pub mod supervisord;
pub mod sys;
pub mod web;
pub mod xmlrpc;

/// The Supervisor release whose behaviour we reproduce; reported by
/// `supervisord -v`, `supervisor.getSupervisorVersion` and `supervisorctl version`.
pub const VERSION: &str = "4.2.5";

/// The XML-RPC API version (`supervisor.getAPIVersion`).
pub const API_VERSION: &str = "3.0";
