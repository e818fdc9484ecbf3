//! Source-agnostic reconcile of Events and Rewards: the one code path both sources share.
