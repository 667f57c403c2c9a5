//! Clients that hold the hub's connections open (issue 17): slow headers, idle sockets, a
//! thousand of them at once. The hub bounds them; `/healthz` and `/T/` keep answering.

use crate::hub_common;
#[allow(unused_imports)]
use hub_common::*;
