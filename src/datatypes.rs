//! datatypes: value types of the config file (to be written).
