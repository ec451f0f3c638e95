//! socket_manager (to be written).
