//! Group commit. Metadata writes of PUTs, uploaded parts, completed uploads
//! and deletes are queued to one thread that applies every job waiting at
//! that moment in a single redb transaction, so concurrent writers share one
//! fsync. Nothing is acknowledged before the shared commit is durable.
//!
//! A job first checks what may legitimately fail (bucket or upload gone, a
//! precondition that no longer holds…) and reports that as a *soft* error
//! without writing anything; the batch goes on. Any error after the job
//! started writing is *hard*: the whole batch is dropped uncommitted and
//! every job in it fails (their callers then delete the packs they wrote).
//! The commit hooks run once per batch, over the changes of the jobs that
//! applied; a hook error is hard too.

use std::any::Any;
use std::sync::Arc;
use std::sync::mpsc as std_mpsc;

use tokio::sync::oneshot;

use super::error::MetaError;
use super::seal::RecordSealer;
use super::store::{Hooks, begin, run_in_transaction, snapshot, tell_durable};
use super::txn::Txn;
use crate::engine::error::{EngineError, EngineResult};
use crate::engine::meta::MetaContext;

type AnyBox = Box<dyn Any + Send>;

/// `Ok(Ok(v))`: applied; `Ok(Err(e))`: soft error, nothing written; `Err(e)`: hard error.
pub(crate) type JobResult<T> = Result<EngineResult<T>, EngineError>;

type ApplyFn = Box<dyn FnOnce(&Txn<'_>) -> JobResult<AnyBox> + Send>;

struct Job {
    apply: ApplyFn,
    reply: oneshot::Sender<EngineResult<AnyBox>>,
}

/// Most jobs folded into one transaction (bounds the latency of the first).
const MAX_BATCH: usize = 256;

/// Handle to the commit thread; dropping it stops the thread after the
/// queued jobs are done.
pub(crate) struct Committer {
    tx: Option<std_mpsc::Sender<Job>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Committer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Committer").finish_non_exhaustive()
    }
}

fn stopped() -> EngineError {
    MetaError::CommitterStopped.at("group commit")
}

impl Committer {
    pub fn start(
        db: Arc<redb::Database>,
        hooks: Hooks,
        sealer: RecordSealer,
    ) -> EngineResult<Self> {
        let (tx, rx) = std_mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("coffer-commit".into())
            .spawn(move || run(&db, &hooks, &sealer, &rx))
            .map_err(|e| EngineError::Internal(format!("cannot start the commit thread: {e}")))?;
        Ok(Committer {
            tx: Some(tx),
            thread: Some(thread),
        })
    }

    /// Applies `apply` in the next group transaction and waits for it to be durable.
    /// `apply` must not hold on to the engine (it runs on the commit thread).
    pub async fn submit<T, F>(&self, apply: F) -> EngineResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Txn<'_>) -> JobResult<T> + Send + 'static,
    {
        let (reply, rx) = oneshot::channel();
        let apply: ApplyFn =
            Box::new(move |txn| apply(txn).map(|r| r.map(|v| Box::new(v) as AnyBox)));
        let tx = self.tx.as_ref().ok_or_else(stopped)?;
        tx.send(Job { apply, reply }).map_err(|_| stopped())?;
        let out = rx.await.map_err(|_| stopped())??;
        out.downcast::<T>()
            .map(|b| *b)
            .map_err(|_| EngineError::Internal("commit job returned the wrong type".into()))
    }
}

impl Drop for Committer {
    fn drop(&mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run(db: &redb::Database, hooks: &Hooks, sealer: &RecordSealer, rx: &std_mpsc::Receiver<Job>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        commit_batch(db, hooks, sealer, batch);
    }
}

type Reply = oneshot::Sender<EngineResult<AnyBox>>;

fn commit_batch(db: &redb::Database, hooks: &Hooks, sealer: &RecordSealer, batch: Vec<Job>) {
    let raw = match begin(db, "begin group commit") {
        Ok(t) => t,
        Err(e) => return fail_all(batch.into_iter().map(|j| j.reply), e),
    };
    let txn = Txn::new(&raw, sealer);
    let mut done: Vec<(Reply, AnyBox)> = Vec::with_capacity(batch.len());
    let mut jobs = batch.into_iter();
    while let Some(job) = jobs.next() {
        let mark = txn.mark();
        match (job.apply)(&txn) {
            Ok(Ok(v)) => done.push((job.reply, v)),
            Ok(Err(soft)) => {
                // A soft error wrote nothing; forget what it may have noted.
                txn.truncate(mark);
                let _ = job.reply.send(Err(soft));
            }
            Err(hard) => {
                drop(txn);
                drop(raw);
                // The failing job keeps its own error; the others learn why
                // their batch was dropped.
                let cause = hard.to_string();
                for r in done
                    .into_iter()
                    .map(|(r, _)| r)
                    .chain(jobs.map(|j| j.reply))
                {
                    let _ = r.send(Err(
                        MetaError::OtherJobFailed(cause.clone()).at("group commit")
                    ));
                }
                let _ = job.reply.send(Err(hard));
                return;
            }
        }
    }
    let changes = txn.take_changes();
    let hooks = snapshot(hooks);
    if let Err(e) = run_in_transaction(&hooks, &txn, &changes) {
        drop(txn);
        drop(raw);
        return fail_all(done.into_iter().map(|(r, _)| r), e);
    }
    drop(txn);
    match raw.commit().ctx("group commit") {
        Ok(()) => {
            tell_durable(&hooks, &changes);
            for (reply, v) in done {
                let _ = reply.send(Ok(v));
            }
        }
        Err(e) => fail_all(done.into_iter().map(|(r, _)| r), e),
    }
}

/// The transaction itself failed (begin, a hook, or the commit): every job
/// gets the same, shared cause.
fn fail_all(replies: impl Iterator<Item = Reply>, e: EngineError) {
    let cause = Arc::new(e);
    for r in replies {
        let _ = r.send(Err(
            MetaError::BatchAborted(cause.clone()).at("group commit")
        ));
    }
}
