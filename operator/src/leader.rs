//! Leader election with a Lease, so only one replica reconciles.
