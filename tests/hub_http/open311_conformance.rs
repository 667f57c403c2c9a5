//! Open311 GeoReport v2 as a third-party client sees the hub (issue 17): a client written in
//! this file from the specification's text alone, not from the hub's code.

use crate::hub_common;
#[allow(unused_imports)]
use hub_common::*;
