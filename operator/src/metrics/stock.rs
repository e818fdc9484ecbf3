//! `liveops_reward_stock_remaining{reward_namespace, reward}`: stock left of
//! every live Reward with a quantity, read from PostgreSQL at scrape time.
//!
//! Read per scrape rather than kept as gauges because the ledger, not the
//! operator, moves stock: a gauge per Reward held in memory would be stale
//! between counter passes and would cost memory at 30,000 Rewards for
//! nothing between scrapes. The rows live only from the query to the encode.

use std::sync::{Arc, Mutex, PoisonError};

use prometheus_client::{
    collector::Collector,
    encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric},
    metrics::gauge::ConstGauge,
};
use sqlx::PgPool;

/// Labels of one Reward's series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StockLabels {
    pub reward_namespace: String,
    pub reward: String,
}

/// The rows of the scrape in progress; empty between scrapes.
#[derive(Clone, Debug, Default)]
pub struct StockCollector {
    rows: Arc<Mutex<Vec<(StockLabels, i64)>>>,
}

impl StockCollector {
    /// Reads every live Reward's remaining stock for the next encode.
    pub async fn load(&self, db: &PgPool) -> sqlx::Result<()> {
        let rows = sqlx::query!(
            r#"select namespace, name, greatest(quantity - claimed, 0)::int8 as "remaining!"
               from rewards
               where quantity is not null and deleted_at is null"#
        )
        .fetch_all(db)
        .await?;
        *self.lock() = rows
            .into_iter()
            .map(|row| {
                let labels = StockLabels {
                    reward_namespace: row.namespace,
                    reward: row.name,
                };
                (labels, row.remaining)
            })
            .collect();
        Ok(())
    }

    /// Drops the rows once they were encoded.
    pub fn clear(&self) {
        *self.lock() = Vec::new();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(StockLabels, i64)>> {
        self.rows.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Collector for StockCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let rows = self.lock();
        if rows.is_empty() {
            return Ok(());
        }
        let mut family = encoder.encode_descriptor(
            "reward_stock_remaining",
            "Stock left of each Reward with a quantity (quantity - claimed)",
            None,
            prometheus_client::metrics::MetricType::Gauge,
        )?;
        for (labels, remaining) in rows.iter() {
            ConstGauge::new(*remaining).encode(family.encode_family(labels)?)?;
        }
        Ok(())
    }
}
