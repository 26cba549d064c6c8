//! The worker pool the CRM lends plugins: jobs they submit run here, never on the thread that
//! called a hook.

use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use abi::Job;

/// A job and the name of the plugin that submitted it.
pub type QueuedJob = (String, Job);

/// Runs a job; given the plugin's name.
pub type Runner = Arc<dyn Fn(&str, &Job) + Send + Sync>;

pub struct WorkerPool {
    sender: Mutex<Option<Sender<QueuedJob>>>,
    pending: Arc<(Mutex<usize>, Condvar)>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl WorkerPool {
    pub fn start(threads: usize, runner: Runner) -> Self {
        let (sender, receiver) = channel::<QueuedJob>();
        let receiver = Arc::new(Mutex::new(receiver));
        let pending = Arc::new((Mutex::new(0usize), Condvar::new()));
        let handles = (0..threads.max(1))
            .filter_map(|i| {
                let receiver = receiver.clone();
                let pending = pending.clone();
                let runner = runner.clone();
                std::thread::Builder::new()
                    .name(format!("worker-{i}"))
                    .spawn(move || work(&receiver, &pending, &runner))
                    .ok()
            })
            .collect();
        WorkerPool {
            sender: Mutex::new(Some(sender)),
            pending,
            threads: Mutex::new(handles),
        }
    }

    /// Queues a job; `false` when the pool is shutting down.
    pub fn submit(&self, plugin: &str, job: Job) -> bool {
        let sender = self.sender.lock().expect("pool lock poisoned");
        let Some(sender) = sender.as_ref() else {
            return false;
        };
        *self.pending.0.lock().expect("pool lock poisoned") += 1;
        if sender.send((plugin.to_string(), job)).is_err() {
            self.finish_one();
            return false;
        }
        true
    }

    /// Jobs queued or running.
    pub fn pending(&self) -> usize {
        *self.pending.0.lock().expect("pool lock poisoned")
    }

    /// Waits until no job is queued or running; `false` on timeout.
    pub fn wait_idle(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let (lock, idle) = &*self.pending;
        let mut pending = lock.lock().expect("pool lock poisoned");
        while *pending > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            pending = idle.wait_timeout(pending, left).expect("pool lock poisoned").0;
        }
        true
    }

    /// Lets queued jobs finish, then stops the threads.
    pub fn stop(&self) {
        self.sender.lock().expect("pool lock poisoned").take();
        for handle in self.threads.lock().expect("pool lock poisoned").drain(..) {
            let _ = handle.join();
        }
    }

    fn finish_one(&self) {
        finish_one(&self.pending);
    }
}

fn finish_one(pending: &(Mutex<usize>, Condvar)) {
    let mut count = pending.0.lock().expect("pool lock poisoned");
    *count = count.saturating_sub(1);
    if *count == 0 {
        pending.1.notify_all();
    }
}

fn work(receiver: &Mutex<Receiver<QueuedJob>>, pending: &(Mutex<usize>, Condvar), runner: &Runner) {
    loop {
        let next = receiver.lock().expect("pool lock poisoned").recv();
        let Ok((plugin, job)) = next else { return };
        runner(&plugin, &job);
        finish_one(pending);
    }
}
