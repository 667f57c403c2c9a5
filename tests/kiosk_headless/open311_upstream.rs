//! The kiosk filing to an Open311 server (issue 17): a server written in this file from the
//! GeoReport v2 specification's text alone, not from the hub's code.
