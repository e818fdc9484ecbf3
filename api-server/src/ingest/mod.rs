//! Game-server ingestion (DESIGN.md, "Second stage", "Challenges"): client
//! credentials exchanged for client tokens, and batches of signals counted
//! exactly once into `counter_values` by one statement per batch.

pub mod client_credentials;
pub mod client_rate;
pub mod client_token;
pub mod record;
pub mod signal;
pub mod token_limit;

pub use client_credentials::{ClientId, TokenRefusal};
pub use client_token::{ClientClaims, ClientTokenKeys};
pub use record::{BatchOutcome, SignalStatus, record_batch};
pub use signal::{MAX_SIGNALS_PER_BATCH, SignalCode, SignalInput, SignalRejection};
