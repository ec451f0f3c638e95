//! web (to be written).
