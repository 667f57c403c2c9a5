//! Every page and list renders from rows it cannot trust (issue 17): rows of each kind with
//! extreme values written straight into the database, and every page still answers.

use crate::hub_common;
#[allow(unused_imports)]
use hub_common::*;
