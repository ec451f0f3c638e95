//! rpcinterface (to be written).
