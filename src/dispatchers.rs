//! dispatchers (to be written).
