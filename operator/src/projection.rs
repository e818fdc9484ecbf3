//! What goes into PostgreSQL: idempotent upserts and soft deletes of events and rewards.
