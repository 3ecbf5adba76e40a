//! What the handlers do about a risk, once per risk however often the input is delivered:
//! terminate a session, publish an alert.

use super::update_session;
use crate::alert::{Alert, AlertContext, AlertKey, render};
use crate::ports::{
    AlertClaim, Notifier, NotifyError, Place, SessionStore, StoreError, TerminateError, Terminated,
    Terminator,
};
use crate::session::{SessionRecord, TerminationOutcome, TerminationRecord};
use jiff::Timestamp;

#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Notify(#[from] NotifyError),
    #[error(transparent)]
    Terminate(#[from] TerminateError),
}

/// A termination decided by this invocation, for logs, metrics and replay output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerminationReport {
    pub session_id: String,
    pub reason: String,
    pub outcome: TerminationOutcome,
}

impl TerminationReport {
    pub fn dry_run(&self) -> bool {
        self.outcome == TerminationOutcome::WouldTerminate
    }
}

pub struct TerminationStep {
    pub outcome: TerminationOutcome,
    pub detail: Option<String>,
    /// False when an earlier delivery already decided it.
    pub fresh: bool,
}

impl TerminationStep {
    pub fn report(&self, session_id: &str, reason: &str) -> Option<TerminationReport> {
        self.fresh.then(|| TerminationReport {
            session_id: session_id.to_string(),
            reason: reason.to_string(),
            outcome: self.outcome,
        })
    }
}

/// Terminates the session for `reason` unless an earlier delivery already decided it, and
/// records the outcome on the session. A transient failure is returned (the invocation is
/// retried); a refusal is recorded as `failed` and reported in the alert.
pub async fn terminate_once<S: SessionStore, T: Terminator>(
    store: &S,
    terminator: &T,
    record: SessionRecord,
    reason: &str,
) -> Result<(SessionRecord, TerminationStep), ActionError> {
    if let Some(done) = record
        .terminations
        .get(reason)
        .filter(|t| t.outcome != TerminationOutcome::Failed)
    {
        let step = TerminationStep {
            outcome: done.outcome,
            detail: done.detail.clone(),
            fresh: false,
        };
        return Ok((record, step));
    }
    let (outcome, detail) = if record.state.is_over() {
        (
            TerminationOutcome::AlreadyEnded,
            Some(format!("session already {}", record.state.as_str())),
        )
    } else {
        match terminator
            .terminate(&record.session_id, Place::of(&record))
            .await
        {
            Ok(Terminated::Now) => (TerminationOutcome::Terminated, None),
            Ok(Terminated::AlreadyEnded) => (TerminationOutcome::AlreadyEnded, None),
            Ok(Terminated::WouldHave) => (TerminationOutcome::WouldTerminate, None),
            Err(TerminateError::Rejected(why)) => (TerminationOutcome::Failed, Some(why)),
            // No role to act in the session's account: recorded and alerted as failed, with
            // the account and role named; retrying would not help.
            Err(TerminateError::NoAccess(why)) => {
                (TerminationOutcome::Failed, Some(why.to_string()))
            }
            Err(transient @ TerminateError::Unavailable(_)) => return Err(transient.into()),
        }
    };
    let entry = TerminationRecord {
        outcome,
        at: Timestamp::now(),
        detail: detail.clone(),
    };
    let record = update_session(store, &record.key(), |r| {
        let before = r.terminations.get(reason).cloned();
        r.record_termination(reason, entry.clone());
        r.terminations.get(reason) != before.as_ref()
    })
    .await?
    .record;
    let step = TerminationStep {
        outcome,
        detail,
        fresh: true,
    };
    Ok((record, step))
}

/// How long a delivery may take to publish an alert before another may try: the recorder's and
/// scanner's invocation limit (`Timeout` in template.yaml), so a live holder is never overtaken.
/// Concurrent duplicate deliveries arrive within seconds of each other; Lambda retries a failed
/// asynchronous invocation a minute or more later, when a crashed delivery's claim has lapsed.
pub const ALERT_CLAIM_LEASE: jiff::SignedDuration = jiff::SignedDuration::from_secs(30);

/// A token naming one delivery's claim on an alert: unique per call, so the SDK retrying a claim
/// whose reply was lost finds its own claim, while a concurrent delivery (another invocation, or
/// a Lambda retry after the lease) holds a different one.
fn delivery_token() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.write_u32(std::process::id());
    hasher.write_i128(Timestamp::now().as_nanosecond());
    format!("{:016x}{:08x}", hasher.finish(), std::process::id())
}

/// Publishes the alert unless it was sent before or a concurrent delivery is sending it (holding
/// a claim younger than `lease`, normally [`ALERT_CLAIM_LEASE`]): the delivery that claims it publishes, then marks it sent. A failed publish releases the claim
/// and fails the invocation, so the retry sends it. A publish that succeeded is never undone:
/// if marking it sent fails, the alert stands and the invocation goes on (failing it would make
/// Lambda's retry, after the lease, send it again); the message's `alert_id` attribute lets a
/// subscriber drop the repeat a later redelivery could still cause.
pub async fn alert_once<S: SessionStore, N: Notifier>(
    store: &S,
    notifier: &N,
    context: &AlertContext<'_>,
    lease: jiff::SignedDuration,
) -> Result<Option<Alert>, ActionError> {
    let key = AlertKey {
        session_id: context.session.key(),
        kind: context.alert_key.to_string(),
    };
    let holder = delivery_token();
    let now = Timestamp::now();
    match store.claim_alert(&key, &holder, now, now + lease).await? {
        AlertClaim::Claimed => {}
        AlertClaim::AlreadySent => return Ok(None),
        AlertClaim::InFlight => {
            tracing::info!(
                session_id = %key.session_id,
                alert = %key.kind,
                "alert is being published by a concurrent delivery"
            );
            return Ok(None);
        }
    }
    let alert = render(context);
    if let Err(failed) = notifier.publish(&alert).await {
        if let Err(release) = store.release_alert(&key, &holder).await {
            tracing::warn!(
                session_id = %key.session_id,
                alert = %key.kind,
                error = %release,
                "could not release the alert claim; a retry waits for it to lapse"
            );
        }
        return Err(failed.into());
    }
    if let Err(mark) = store.mark_alert_sent(&key, Timestamp::now()).await {
        tracing::error!(
            session_id = %key.session_id,
            alert = %key.kind,
            error = %mark,
            "alert sent but not marked sent; a redelivery after the lease may send it again"
        );
    }
    Ok(Some(alert))
}
